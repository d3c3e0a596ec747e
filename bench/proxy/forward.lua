-- wrk script: speak to a forward proxy. wrk connects to the proxy's host:port (its URL argument);
-- every request carries the absolute-form target of the real upstream.
-- Env: BENCH_TARGET_HOSTPORT (e.g. 127.0.0.1:8080), BENCH_TARGET_PATH (default /1k).
local hostport = os.getenv("BENCH_TARGET_HOSTPORT")
local path = os.getenv("BENCH_TARGET_PATH") or "/1k"
local req

function init(args)
  if hostport == nil or hostport == "" then
    error("BENCH_TARGET_HOSTPORT is not set")
  end
  req = "GET http://" .. hostport .. path .. " HTTP/1.1\r\n" ..
        "Host: " .. hostport .. "\r\n" ..
        "User-Agent: wrk-bench\r\n" ..
        "Accept: */*\r\n\r\n"
end

function request()
  return req
end

-- A non-200 status is a failed benchmark, not a fast one: count it so the orchestrator can check.
function done(summary, latency, requests)
  io.write(string.format("BENCH_ERRORS status=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout))
end
