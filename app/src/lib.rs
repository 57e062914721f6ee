/*!
The back-office service: wires connection roles to repositories at start-up and serves the
system's operations over HTTP (`axum`) and AWS Lambda (`lambda_http`).

Module map:
- [`backend`]: builds the registry (the `registry` crate) on MongoDB or in memory from
  configuration, and checks the routes against it;
- [`auth`]: verified caller identity (JWT, or the Lambda authorizer) and what it may reach;
- [`http`]: the one [`axum::Router`] both front doors serve;
- [`lambda`]: the AWS Lambda front door;
- [`check`]: `app check`, every stored document read before a handler moves;
- [`indexes`]: `app indexes`, the declared indexes compared with the stored ones and synced;
- [`demo`]: the records and token of the zero-configuration demo;
- [`config`] and [`telemetry`]: start-up settings and logs.
*/
#![deny(missing_docs)]

pub mod auth;
pub mod check;
pub mod config;
pub mod demo;
pub mod http;
pub mod indexes;
pub mod lambda;
pub mod mongo_options;
pub mod service;
pub mod stored_data;
pub mod telemetry;
