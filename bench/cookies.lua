-- wrk script for bench/run.sh: `wrk -s bench/cookies.lua URL -- COOKIE_FILE`.
--
-- Sends GET /hello with the cookies of COOKIE_FILE (one `name=value` a line, minted before the
-- measurement; an empty line sends an empty Cookie header), one after another, round-robin in each
-- wrk thread. Every request is formatted here, in `init`, so measuring costs one table lookup per
-- request whether the file holds one cookie (the cached modes) or 10,000 (the `-10k` modes).

local requests, count, last = {}, 0, 0

function init(args)
    local file = args[1] or error("usage: wrk -s cookies.lua URL -- COOKIE_FILE")
    for cookie in io.lines(file) do
        count = count + 1
        requests[count] = wrk.format("GET", "/hello", { Cookie = cookie })
    end
    if count == 0 then error(file .. ": no cookies") end
end

function request()
    last = last % count + 1
    return requests[last]
end
