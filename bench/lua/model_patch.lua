-- wrk script for bench/run.sh: PATCH a model with the Bearer token
-- $ATELIER_TOKEN, setting "chest" to a random whole number of millimetres
-- in $ATELIER_CHEST_MIN..MAX (default 950..1050: plausible for the
-- cisMaleAdult38 set of the bench model, well inside the vocabulary's range
-- and the 35 % warning band).
--   model_write: the model given as wrk's URL (/v1/models/{id}), from every
--     connection: a hot row;
--   model_write_many: $ATELIER_MODEL_IDS (space-separated ids of the same
--     account) in turn, request after request, so that the requests in
--     flight name different models, as the writes of many people do (the
--     path of wrk's URL is replaced).
local token = os.getenv("ATELIER_TOKEN")
if not token or token == "" then
    error("bench/lua/model_patch.lua: ATELIER_TOKEN is not set")
end
local lo = tonumber(os.getenv("ATELIER_CHEST_MIN") or "950")
local hi = tonumber(os.getenv("ATELIER_CHEST_MAX") or "1050")
local ids, next_id = {}, 0
for id in string.gmatch(os.getenv("ATELIER_MODEL_IDS") or "", "%S+") do
    ids[#ids + 1] = id
end

wrk.method = "PATCH"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Content-Type"] = "application/json"

init = function(args)
    math.randomseed(os.time())
end

request = function()
    local body = string.format('{"measurements":{"chest":%d}}', math.random(lo, hi))
    local path = nil
    if #ids > 0 then
        next_id = next_id % #ids + 1
        path = "/v1/models/" .. ids[next_id]
    end
    return wrk.format(nil, path, nil, body)
end
