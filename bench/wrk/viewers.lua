-- The viewers a scenario started before its runs (bench/lib/sessions.ts), read from the file it
-- wrote: one viewer a line, its fields separated by spaces; and a player's pace, when the runner
-- asks for one: each connection waits that long after each answer before its next request, so
-- that the connections together ask about as often as the viewers' players would.
--   local viewers = require("viewers")   -- after the scripts' package.path line

local function load(file)
  local list = {}
  for line in io.lines(file) do
    local fields = {}
    for field in line:gmatch("%S+") do fields[#fields + 1] = field end
    if #fields > 0 then list[#list + 1] = fields end
  end
  if #list == 0 then error("no viewers in " .. file) end
  return list
end

local function pace(ms)
  if ms ~= nil and ms > 0 then
    -- wrk looks for a global delay() once init has run.
    function delay() return ms end
  end
end

return { load = load, pace = pace }
