/*!
Test infrastructure shared by the workspace's tests and its benchmark. It knows nothing of the
app's types, so `bench` and every test crate can use it without a cycle; the app harness built
on it (`TestService`) lives in the `tests` crate.

- [`server`]: the MongoDB wire-protocol server database tests run against, fresh database
  names on it, private servers to kill and restart, and the known-gap report;
- [`process`]: the real binary as a child process, configured only by its environment;
- [`http`]: one request to it, read to the end;
- [`lambda_runtime`]: a Lambda Runtime API on loopback, handing out `aws_lambda_events` events;
- [`prometheus`]: the Prometheus text format, read by a parser;
- [`logs`]: log lines captured in memory;
- [`alone`]: one test at a time, for those that watch what is global to a process.
*/
#![deny(missing_docs)]

pub mod alone;
pub mod http;
pub mod lambda_runtime;
pub mod logs;
pub mod process;
pub mod prometheus;
pub mod server;
