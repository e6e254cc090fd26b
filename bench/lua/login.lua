-- wrk script for bench/run.sh: POST /v1/login, cycling over the accounts
-- named in $ATELIER_LOGINS (space-separated usernames) that all share the
-- password $ATELIER_PASSWORD (letters, digits, '-' and '_' only: it is put
-- into the JSON as is). Every login succeeds, so the per-account failure
-- throttle never applies; each creates a session and evicts the account's
-- oldest beyond 20. Run it with -t1: the counter is per thread.
local logins = os.getenv("ATELIER_LOGINS")
local password = os.getenv("ATELIER_PASSWORD")
if not logins or logins == "" or not password or password == "" then
    error("bench/lua/login.lua: ATELIER_LOGINS and ATELIER_PASSWORD must be set")
end
if password:find("[^%w_-]") then
    error("bench/lua/login.lua: ATELIER_PASSWORD must be [A-Za-z0-9_-]")
end

local requests = {}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

init = function(args)
    for user in logins:gmatch("%S+") do
        local body = '{"login":"' .. user .. '","password":"' .. password .. '"}'
        requests[#requests + 1] = wrk.format(nil, nil, nil, body)
    end
end

local i = 0
request = function()
    i = i % #requests + 1
    return requests[i]
end
