-- wrk script for bench/run.sh: GET the URL given to wrk (a model, or a
-- model's pattern) with the session token of $ATELIER_TOKEN as a Bearer
-- token. Sent unchanged to nginx as well, so both servers get the same bytes.
local token = os.getenv("ATELIER_TOKEN")
if not token or token == "" then
    error("bench/lua/auth_get.lua: ATELIER_TOKEN is not set")
end

wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. token
