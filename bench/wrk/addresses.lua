-- Public IPv4 client addresses for the bench's scripts, numbered: address(m) for m = 0, 1, 2, …
-- does not repeat for millions of numbers, and spreads over first octets of networks in use
-- around the world, so the clients land in many places.
--   local address = require("addresses").address   -- after the scripts' package.path line

local octets = {
  1, 2, 5, 24, 31, 37, 46, 50, 62, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78,
  79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 104, 107,
  108, 109, 173, 174, 176, 178, 184, 185, 188, 193, 194, 195, 200, 201, 202, 210, 211, 212, 213,
  217, 219, 220, 221, 222
}
local octetCount = #octets

local function address(m)
  local a = octets[(m % octetCount) + 1]
  local rest = math.floor(m / octetCount)
  local d = rest % 254 + 1
  local c = math.floor(rest / 254) % 256
  local b = math.floor(rest / 65024) % 256
  return a .. "." .. b .. "." .. c .. "." .. d
end

return { address = address }
