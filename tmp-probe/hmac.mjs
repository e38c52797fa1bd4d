import { createHash, createHmac, createSecretKey, hash } from 'node:crypto'
const secret = 'geogate-bench-service-secret-0123456789abcdef'
const key = createSecretKey(Buffer.from(secret))
const buf = Buffer.from(secret)
const body = JSON.stringify({ token: 'bench-token-12345', rights: 'view', object_type: 'camera', object_id: 'UIN-DEMO-1/cam-1' })
const msg = `v1\ngw\n1893456000\nabcdef0123456789abcdef0123456789\nPOST\n/authorize\n${'e'.repeat(64)}`
function time(name, fn) { for (let i=0;i<20000;i++) fn(); const n=200000; const t=process.hrtime.bigint(); for (let i=0;i<n;i++) fn(); console.log(name, (Number(process.hrtime.bigint()-t)/n/1000).toFixed(2), 'us') }
time('createHash sha256 hex', () => createHash('sha256').update(body).digest('hex'))
time('crypto.hash sha256 hex', () => hash('sha256', body, 'hex'))
time('hmac KeyObject', () => createHmac('sha256', key).update(msg).digest('hex'))
time('hmac Buffer', () => createHmac('sha256', buf).update(msg).digest('hex'))
time('hmac string', () => createHmac('sha256', secret).update(msg).digest('hex'))
time('hmac KeyObject buffer out', () => createHmac('sha256', key).update(msg).digest())
