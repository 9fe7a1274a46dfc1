--[[
  Takes the controller lease when nobody holds it: the controller epoch grows by one with
  every new controller and never goes back.

  KEYS[1] controller         "<broker id>:<controller epoch>", expiring with the lease
  KEYS[2] controller-epoch   counter
  KEYS[3] cluster            the cluster state's marker (missing: Redis lost the state)

  ARGV[1] broker id
  ARGV[2] lease ms
  ARGV[3] change channel

  Returns the new controller epoch, or -9 (ControllerTaken) or -10 (NoClusterState: nobody
  controls a state Redis lost before it is restored).
]]
if redis.call('EXISTS', KEYS[3]) == 0 then
  return -10
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  return -9
end
local epoch = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. epoch, 'PX', ARGV[2])
redis.call('PUBLISH', ARGV[3], 'controller')
return epoch
