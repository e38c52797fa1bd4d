-- The resolver-down scenario: the warm request (one token), but from a bounded set of public
-- IPv4 addresses, cycled in order. The set starts at FIRST in a long sequence of addresses, so
-- each run can bring clients the gateway has not seen: each is located by the local fallback
-- database on its first request and answered from the cache after that.
--   wrk ... -s bounded-addresses.lua URL -- ADDRESS_COUNT [FIRST]

local counter = 0
local addressCount = 20000

local octets = {
  1, 2, 5, 24, 31, 37, 46, 50, 62, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78,
  79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 104, 107,
  108, 109, 173, 174, 176, 178, 184, 185, 188, 193, 194, 195, 200, 201, 202, 210, 211, 212, 213,
  217, 219, 220, 221, 222
}
local octetCount = #octets
local addresses = {}

function init(args)
  addressCount = tonumber(args[1]) or 20000
  local first = tonumber(args[2]) or 0
  -- Built once: the request loop only picks one.
  for i = 0, addressCount - 1 do
    local m = first + i
    local a = octets[(m % octetCount) + 1]
    local rest = math.floor(m / octetCount)
    addresses[i + 1] = a .. "." .. (math.floor(rest / 65024) % 256) .. "." .. (math.floor(rest / 254) % 256) .. "." .. (rest % 254 + 1)
  end
end

function request()
  local ip = addresses[(counter % addressCount) + 1]
  counter = counter + 1
  return wrk.format(nil, nil, { ["X-Forwarded-For"] = ip })
end
