--[[
  Gives the controller lease up (clean shutdown) so another broker takes over at once.

  KEYS[1] controller

  ARGV[1] "<broker id>:<controller epoch>" as acquired
  ARGV[2] change channel

  Returns 1, or -5 (NotController).
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return -5
end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], 'controller')
return 1
