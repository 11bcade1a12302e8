-- wrk's script for `make bench` (scripts/bench.py runs wrk with it).
--
-- Every run ends with one line, "BENCH-RESULT {json}": requests, seconds, p50 and p99
-- latency in ms, and the errors wrk counts (socket errors; statuses of 400 and up).
--
-- Given a jobs file (wrk ... URL -- JOBS), each request is the next of this thread's jobs,
-- the lines "THREAD<tab>COOKIE<tab>PATH<tab>BODY" whose THREAD is this thread's number: a
-- POST that answers a question not answered yet. A thread whose jobs have run out sends
-- nothing more (no answer is ever sent twice) and stops once the answers it sent are
-- back; every status is counted by its class.
-- Without one, wrk sends its one fixed request and reads no response: the fast path.

local threads = {}

function setup(thread)
  thread:set("thread_number", #threads)
  table.insert(threads, thread)
end

function init(args)
  if not args[1] then
    return
  end
  local prepared = {}
  for line in io.lines(args[1]) do
    local number, cookie, path, body = line:match("^(%d+)\t([^\t]*)\t([^\t]*)\t(.*)$")
    if tonumber(number) == thread_number then
      local headers = {}
      for name, value in pairs(wrk.headers) do
        headers[name] = value
      end
      headers["Cookie"] = cookie
      headers["Content-Type"] = "application/x-www-form-urlencoded"
      prepared[#prepared + 1] = wrk.format("POST", path, headers, body)
    end
  end
  jobs, sent, answered, ran_out = #prepared, 0, 0, false
  status_2xx, status_3xx, status_4xx, status_5xx = 0, 0, 0, 0
  -- wrk calls the first thread's request() once before the run to check what it returns,
  -- and never sends that request: it is shown the first job, which stays unsent.
  local checked = thread_number ~= 0

  function request()
    if not checked then
      checked = true
      return prepared[1] or ""
    end
    if sent == #prepared then
      -- Nothing more to send on this connection; the thread stops once the answers
      -- still in flight on its other connections are back.
      ran_out = true
      if answered == sent then
        wrk.thread:stop()
      end
      return ""
    end
    sent = sent + 1
    return prepared[sent]
  end

  function response(status, headers, body)
    answered = answered + 1
    if ran_out and answered == sent then
      wrk.thread:stop()
    end
    if status >= 500 then
      status_5xx = status_5xx + 1
    elseif status >= 400 then
      status_4xx = status_4xx + 1
    elseif status >= 300 then
      status_3xx = status_3xx + 1
    else
      status_2xx = status_2xx + 1
    end
  end
end

local function total(name)
  local sum = 0
  for _, thread in ipairs(threads) do
    sum = sum + (thread:get(name) or 0)
  end
  return sum
end

function done(summary, latency, requests)
  local errors = summary.errors
  local fields = {
    string.format('"requests": %d', summary.requests),
    string.format('"seconds": %.6f', summary.duration / 1e6),
    string.format('"p50_ms": %.3f', latency:percentile(50) / 1000),
    string.format('"p99_ms": %.3f', latency:percentile(99) / 1000),
    string.format(
      '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}',
      errors.connect, errors.read, errors.write, errors.timeout, errors.status
    ),
  }
  if threads[1]:get("jobs") then
    local ran_out = false
    for _, thread in ipairs(threads) do
      ran_out = ran_out or thread:get("ran_out")
    end
    fields[#fields + 1] = string.format(
      '"jobs": {"prepared": %d, "sent": %d, "ran_out": %s, "2xx": %d, "3xx": %d, "4xx": %d, "5xx": %d}',
      total("jobs"), total("sent"), tostring(ran_out),
      total("status_2xx"), total("status_3xx"), total("status_4xx"), total("status_5xx")
    )
  end
  io.write("BENCH-RESULT {" .. table.concat(fields, ", ") .. "}\n")
end
