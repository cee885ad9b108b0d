-- wrk script: GET /users/{id} with id uniformly random in 1..LIBRARY_N (env, default
-- 100000), so every request hits a different recording of the 100k library.
local n = tonumber(os.getenv("LIBRARY_N") or "100000")

function setup(thread)
    thread:set("seed", math.random(1, 2147483647))
end

function init(args)
    math.randomseed(seed or os.time())
end

function request()
    return wrk.format("GET", "/users/" .. math.random(1, n))
end
