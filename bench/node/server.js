// The system being replaced, cut down to the two routes the benchmark measures: Node.js's own
// HTTP server and Mongoose, as the Lambda handlers did it (one Mongoose connection per URI, so
// MONGO_URI and MASTER_ADMIN_MONGO_URI make two pools), with the same HS256 bearer-token check
// as the Rust app. Started by the bench binary with MONGO_URI, MASTER_ADMIN_MONGO_URI,
// AUTH_JWT_SECRET and PORT; not part of the product.
'use strict';

const http = require('node:http');
const crypto = require('node:crypto');
const mongoose = require('mongoose');

const { MONGO_URI, MASTER_ADMIN_MONGO_URI, AUTH_JWT_SECRET, PORT } = process.env;
if (!MONGO_URI || !AUTH_JWT_SECRET || !PORT) {
  console.error('MONGO_URI, AUTH_JWT_SECRET and PORT are required');
  process.exit(2);
}

const main = mongoose.createConnection(MONGO_URI, { maxPoolSize: 50 });
const masterAdmin = mongoose.createConnection(MASTER_ADMIN_MONGO_URI || MONGO_URI, { maxPoolSize: 50 });

const timestamps = { timestamps: true };
const Branch = main.model('Branch', new mongoose.Schema({
  name: { type: String, required: true, unique: true },
  location: { type: String, required: true },
}, timestamps), 'branches');
const Order = main.model('Order', new mongoose.Schema({
  branchId: mongoose.Schema.Types.ObjectId,
  customerId: mongoose.Schema.Types.ObjectId,
  items: [{ sku: String, quantity: Number, unitPrice: Number }],
  status: String,
}, timestamps), 'orders');
const Admin = masterAdmin.model('Admin', new mongoose.Schema({
  username: { type: String, required: true, unique: true },
  fullName: String,
  email: String,
  branchId: mongoose.Schema.Types.ObjectId,
}, timestamps), 'admins');

const key = Buffer.from(AUTH_JWT_SECRET);
const base64url = (buffer) => buffer.toString('base64url');

// The caller's claims if the HS256 signature and expiry check out, else null.
function verify(header) {
  const token = header && header.startsWith('Bearer ') ? header.slice(7) : null;
  const parts = token ? token.split('.') : [];
  if (parts.length !== 3) return null;
  const expected = base64url(crypto.createHmac('sha256', key).update(`${parts[0]}.${parts[1]}`).digest());
  const given = Buffer.from(parts[2]);
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, Buffer.from(expected))) return null;
  let head;
  let claims;
  try {
    head = JSON.parse(Buffer.from(parts[0], 'base64url'));
    claims = JSON.parse(Buffer.from(parts[1], 'base64url'));
  } catch {
    return null;
  }
  if (head.alg !== 'HS256' || typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) return null;
  return claims;
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function handle(req, res) {
  const claims = verify(req.headers.authorization);
  if (!claims) return send(res, 401, { error: { code: 'unauthorized', message: 'invalid token' } });
  const branch = /^\/branches\/([0-9a-f]{24})$/.exec(req.url);
  if (req.method === 'GET' && branch) {
    const found = await Branch.findById(branch[1]);
    if (!found) return send(res, 404, { error: { code: 'not_found', message: 'no such branch' } });
    return send(res, 200, { data: found });
  }
  if (req.method === 'GET' && req.url === '/dashboard') {
    if (claims.role !== 'master_admin') return send(res, 403, { error: { code: 'forbidden', message: 'master_admin only' } });
    const [totalAdmins, totalBranches, totalOrders] = await Promise.all([
      Admin.countDocuments(), Branch.countDocuments(), Order.countDocuments(),
    ]);
    return send(res, 200, { data: { totalAdmins, totalBranches, totalOrders } });
  }
  return send(res, 404, { error: { code: 'not_found', message: 'no such route' } });
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((error) => {
    console.error(error);
    send(res, 503, { error: { code: 'unavailable', message: 'database unavailable' } });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => Promise.all([main.close(), masterAdmin.close()]).then(() => process.exit(0))));
