//! The Lambda path: the release `app lambda` binary against the benchmark's fake runtime API
//! ([`FakeRuntime`]). Cold start is spawn to the first invocation's response, as a function's
//! first request waits for it; warm cost is the app's CPU per invocation once started, which
//! with one invocation at a time per environment is what Lambda bills and what limits it.

use std::time::{Duration, Instant};

use mongodb::bson::oid::ObjectId;

use hyper::Method;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use tempfile::TempDir;
use testkit::lambda_runtime::{http_api_event, status_of, FakeRuntime};
use testkit::process::{AppProcess, Launch};

use crate::load::{LoadResult, LoadShape};
use crate::proc_info::cpu_time;

/// At most this many warm invocations are measured (fewer if they do not fit the window).
const WARM_INVOCATIONS: u64 = 2_000;
/// `AWS_LAMBDA_FUNCTION_NAME`: also the `function` dimension of the app's metrics.
const FUNCTION_NAME: &str = "bench";

/// What the Lambda path measured.
#[derive(Debug)]
pub struct LambdaMeasures {
    /// Spawn to the first invocation's response (`GET /dashboard`, so both roles connected),
    /// one per spawn.
    pub cold_starts: Vec<Duration>,
    /// Warm `GET /branches/{id}` invocations, one at a time: the count, the window, the app
    /// process's CPU time in it and each invocation's round trip.
    pub warm: LoadResult,
    /// The same invocations of the hand-written peer's Lambda handler, right after.
    pub peer_warm: LoadResult,
}

/// What the app is started with and asked for, as `serve` was.
pub struct LambdaSetup<'a> {
    /// The `app serve` launch: same binary, databases and secret.
    pub serve: &'a Launch,
    /// The hand-written peer, run as `peer lambda` for the same warm invocations.
    pub peer: &'a Launch,
    pub scratch: &'a TempDir,
    /// A bearer token the app accepts.
    pub token: &'a str,
    pub branch_ids: &'a [ObjectId],
}

impl LambdaSetup<'_> {
    /// `cold_starts` cold starts, then warm invocations for `shape`'s warm-up and window.
    pub async fn measure(
        &self,
        cold_starts: usize,
        shape: LoadShape,
    ) -> Result<LambdaMeasures, String> {
        let mut samples = Vec::with_capacity(cold_starts);
        for i in 0..cold_starts {
            samples.push(self.cold_start(i).await?);
        }
        Ok(LambdaMeasures {
            cold_starts: samples,
            warm: self.warm(self.serve, shape).await?,
            peer_warm: self.warm(self.peer, shape).await?,
        })
    }

    /// `served lambda` against `runtime`, with the variables the Lambda service sets.
    fn launch(served: &Launch, runtime: &FakeRuntime) -> Launch {
        Launch {
            args: vec!["lambda".into()],
            ..served.clone()
        }
        .envs(runtime.environment(FUNCTION_NAME))
    }

    /// A new environment of `served`: its own runtime API and process, the log in `name`.
    async fn spawn(
        &self,
        served: &Launch,
        name: &str,
    ) -> Result<(FakeRuntime, AppProcess), String> {
        let runtime = FakeRuntime::start().await?;
        let log = self.scratch.path().join(name);
        let process = AppProcess::spawn(&Self::launch(served, &runtime), &log)?;
        Ok((runtime, process))
    }

    async fn cold_start(&self, i: usize) -> Result<Duration, String> {
        let name = format!("lambda-cold-{i}.log");
        let (mut runtime, mut process) = self.spawn(self.serve, &name).await?;
        let event = get("/dashboard", self.token);
        invoke_ok(&mut runtime, &mut process, &event).await?;
        let elapsed = process.spawned().elapsed();
        process.stop();
        Ok(elapsed)
    }

    /// After a first invocation and `shape.warmup` of them, up to [`WARM_INVOCATIONS`] in
    /// `shape.duration`, with the app's CPU time read before and after.
    async fn warm(&self, served: &Launch, shape: LoadShape) -> Result<LoadResult, String> {
        let name = format!("lambda-warm-{}.log", served.program.display()).replace('/', "_");
        let (mut runtime, mut process) = self.spawn(served, &name).await?;
        let events: Vec<ApiGatewayV2httpRequest> = self
            .branch_ids
            .iter()
            .map(|id| get(&format!("/branches/{}", id.to_hex()), self.token))
            .collect();
        let mut env = Environment {
            runtime: &mut runtime,
            process: &mut process,
            events: &events,
        };
        env.one_at_a_time(1, Duration::MAX).await?;
        env.one_at_a_time(u64::MAX, shape.warmup).await?;
        let before = cpu_time(env.process.pid());
        let mut result = env.one_at_a_time(WARM_INVOCATIONS, shape.duration).await?;
        let after = cpu_time(env.process.pid());
        result.cpu = before.zip(after).map(|(b, a)| a.saturating_sub(b));
        process.stop();
        Ok(result)
    }
}

/// One running `app lambda` and the events it is given in turn.
struct Environment<'a> {
    runtime: &'a mut FakeRuntime,
    process: &'a mut AppProcess,
    events: &'a [ApiGatewayV2httpRequest],
}

impl Environment<'_> {
    /// Up to `count` invocations, each after the last one's answer, for at most `limit`. An
    /// answer other than `200` is counted as an error; a dead process or a lost invocation
    /// ends the measurement.
    async fn one_at_a_time(&mut self, count: u64, limit: Duration) -> Result<LoadResult, String> {
        let began = Instant::now();
        let mut result = LoadResult::default();
        let mut next = 0;
        while result.requests + result.errors < count && began.elapsed() < limit {
            let event = &self.events[next % self.events.len()];
            next += 1;
            let sent = Instant::now();
            match invoke_ok(self.runtime, self.process, event).await {
                Ok(()) => {
                    result.requests += 1;
                    result.latencies.record(sent.elapsed());
                }
                Err(Failure::Status(error)) => {
                    result.errors += 1;
                    result.first_error.get_or_insert(error);
                }
                Err(Failure::Lost(error)) => return Err(error),
            }
        }
        result.elapsed = began.elapsed();
        Ok(result)
    }
}

/// Why an invocation did not answer `200`.
enum Failure {
    /// It answered with another status: the app is up, the request failed.
    Status(String),
    /// No answer: the process died, the runtime reported an error, or time ran out.
    Lost(String),
}

impl From<Failure> for String {
    fn from(failure: Failure) -> String {
        match failure {
            Failure::Status(error) | Failure::Lost(error) => error,
        }
    }
}

/// Invokes the function with `event` and requires an HTTP `200` in its response.
async fn invoke_ok(
    runtime: &mut FakeRuntime,
    process: &mut AppProcess,
    event: &ApiGatewayV2httpRequest,
) -> Result<(), Failure> {
    let response = runtime
        .invoke(event, || process.check_alive())
        .await
        .map_err(Failure::Lost)?;
    match status_of(&response) {
        Some(200) => Ok(()),
        _ => Err(Failure::Status(format!("the function answered {response}"))),
    }
}

/// `GET path` with `token`, as API Gateway hands it to the function.
fn get(path: &str, token: &str) -> ApiGatewayV2httpRequest {
    http_api_event(Method::GET, path, Some(token), None)
}
