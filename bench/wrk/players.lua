-- The players mix (docs/design.md section 8): VIEWERS viewers, each with its own token
-- (bench-token-<n>) and its own address (address(n)), take turns; each asks for one of CAMERAS
-- cameras of UIN-BENCH, picked with a skewed popularity (camera k about as often as 1/(k+1)^…,
-- cam-0 the most watched), so most requests are a token/camera pair the gateway has not seen.
--   wrk ... -s players.lua URL -- VIEWERS CAMERAS
-- URL's path is replaced.

local counter = 0
local viewers = 5000
local cameras = 100

-- addresses.lua sits beside this script.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local address = require("addresses").address

function init(args)
  viewers = tonumber(args[1]) or 5000
  cameras = tonumber(args[2]) or 100
  math.randomseed(os.time())
end

function request()
  local n = counter % viewers
  counter = counter + 1
  local u = math.random()
  local camera = math.floor(cameras * u * u * u)
  local path = "/flv?server=UIN-BENCH&camera=cam-" .. camera .. "&access_token=bench-token-" .. n
  return wrk.format("GET", path, { ["X-Forwarded-For"] = address(n) })
end
