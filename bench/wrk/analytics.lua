-- The analytics mix (docs/design.md section 8): one token and one address ask for CAMERAS cameras of
-- UIN-BENCH in turn, cam-0, cam-1, …, and again.
--   wrk ... -s analytics.lua URL -- CAMERAS
-- URL's path is replaced.

local counter = 0
local cameras = 1000

function init(args)
  cameras = tonumber(args[1]) or 1000
end

function request()
  local camera = counter % cameras
  counter = counter + 1
  return wrk.format("GET", "/flv?server=UIN-BENCH&camera=cam-" .. camera .. "&access_token=bench-token-0", { ["X-Forwarded-For"] = "77.88.8.8" })
end
