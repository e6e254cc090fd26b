-- wrk script for bench/run.sh's model_write_many: PATCH the models of
-- $ATELIER_MODEL_IDS (space-separated ids, all of the account of the Bearer
-- token $ATELIER_TOKEN) in turn, request after request, setting "chest" to a
-- random whole number of millimetres in 950..1050 as model_patch.lua does.
-- Requests in flight at one time name different models, as the writes of
-- many people do; wrk's URL is only the server (its path is replaced).
local token = os.getenv("ATELIER_TOKEN")
local ids = {}
for id in string.gmatch(os.getenv("ATELIER_MODEL_IDS") or "", "%S+") do
    ids[#ids + 1] = id
end
if not token or token == "" or #ids == 0 then
    error("bench/lua/models_patch.lua: ATELIER_TOKEN or ATELIER_MODEL_IDS is not set")
end
local next_id = 0

wrk.method = "PATCH"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Content-Type"] = "application/json"

init = function(args)
    math.randomseed(os.time())
end

request = function()
    next_id = next_id % #ids + 1
    local body = string.format('{"measurements":{"chest":%d}}', math.random(950, 1050))
    return wrk.format(nil, "/v1/models/" .. ids[next_id], nil, body)
end
