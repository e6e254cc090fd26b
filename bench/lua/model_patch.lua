-- wrk script for bench/run.sh: PATCH the model given as wrk's URL
-- (/v1/models/{id}) with the Bearer token $ATELIER_TOKEN, setting "chest"
-- to a random whole number of millimetres in $ATELIER_CHEST_MIN..MAX
-- (default 950..1050: plausible for the cisMaleAdult38 set of the bench
-- model, well inside the vocabulary's range and the 35 % warning band).
local token = os.getenv("ATELIER_TOKEN")
if not token or token == "" then
    error("bench/lua/model_patch.lua: ATELIER_TOKEN is not set")
end
local lo = tonumber(os.getenv("ATELIER_CHEST_MIN") or "950")
local hi = tonumber(os.getenv("ATELIER_CHEST_MAX") or "1050")

wrk.method = "PATCH"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Content-Type"] = "application/json"

init = function(args)
    math.randomseed(os.time())
end

request = function()
    local body = string.format('{"measurements":{"chest":%d}}', math.random(lo, hi))
    return wrk.format(nil, nil, nil, body)
end
