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

-- addresses.lua sits beside this script.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local address = require("addresses").address

function init(args)
  firstToken = tonumber(args[1]) or 0
  tokenCount = tonumber(args[2]) or 200000
  firstAddress = tonumber(args[3]) or 0
  base = wrk.path .. "&access_token=bench-token-"
end

function request()
  local n = counter
  counter = counter + 1
  local path = base .. ((firstToken + n) % tokenCount)
  return wrk.format("GET", path, { ["X-Forwarded-For"] = address(firstAddress + n) })
end
