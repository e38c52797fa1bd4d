-- The cold scenario: every request is a client the gateway has never seen, with a bench token
-- (bench-token-<n>, pre-created in the store) and a public IPv4 address that no earlier request
-- of the run used. Both come from one counter, so nothing repeats until it wraps.
--   wrk ... -s new-clients.lua URL -- FIRST_TOKEN TOKEN_COUNT FIRST_ADDRESS
-- URL's path and query are kept; access_token is appended.

local counter = 0
local firstToken = 0
local tokenCount = 200000
local firstAddress = 0
local base

-- First octets of networks in use around the world, so the clients land in many places.
local octets = {
  1, 2, 5, 24, 31, 37, 46, 50, 62, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78,
  79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 104, 107,
  108, 109, 173, 174, 176, 178, 184, 185, 188, 193, 194, 195, 200, 201, 202, 210, 211, 212, 213,
  217, 219, 220, 221, 222
}
local octetCount = #octets

function init(args)
  firstToken = tonumber(args[1]) or 0
  tokenCount = tonumber(args[2]) or 200000
  firstAddress = tonumber(args[3]) or 0
  base = wrk.path .. "&access_token=bench-token-"
end

local function address(m)
  local a = octets[(m % octetCount) + 1]
  local rest = math.floor(m / octetCount)
  local d = rest % 254 + 1
  local c = math.floor(rest / 254) % 256
  local b = math.floor(rest / 65024) % 256
  return a .. "." .. b .. "." .. c .. "." .. d
end

function request()
  local n = counter
  counter = counter + 1
  local path = base .. ((firstToken + n) % tokenCount)
  return wrk.format("GET", path, { ["X-Forwarded-For"] = address(firstAddress + n) })
end
