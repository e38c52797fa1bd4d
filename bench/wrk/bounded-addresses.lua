-- The resolver-down scenario: the warm request (one token), but from a bounded set of public
-- IPv4 addresses, cycled in order. The set starts at FIRST in a long sequence of addresses, so
-- each run can bring clients the gateway has not seen: each is located by the local fallback
-- database on its first request and answered from the cache after that.
--   wrk ... -s bounded-addresses.lua URL -- ADDRESS_COUNT [FIRST]

local counter = 0
local addressCount = 20000

local addresses = {}

-- addresses.lua sits beside this script.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local address = require("addresses").address

function init(args)
  addressCount = tonumber(args[1]) or 20000
  local first = tonumber(args[2]) or 0
  -- Built once: the request loop only picks one.
  for i = 0, addressCount - 1 do
    addresses[i + 1] = address(first + i)
  end
end

function request()
  local ip = addresses[(counter % addressCount) + 1]
  counter = counter + 1
  return wrk.format(nil, nil, { ["X-Forwarded-For"] = ip })
end
