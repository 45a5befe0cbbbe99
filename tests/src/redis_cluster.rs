//! A real Redis Cluster of three masters (no replicas) on free 127.0.0.1 ports, started and
//! stopped by the tests themselves, with `redis-server --cluster-enabled yes` only (no
//! `redis-cli`): the nodes are joined with `CLUSTER MEET` and given a third of the 16384 slots
//! each with `CLUSTER ADDSLOTSRANGE`.

use std::{
    ffi::OsStr,
    net::TcpListener,
    path::PathBuf,
    process::Child,
    sync::{Arc, Mutex, Weak},
    time::{Duration, Instant},
};

use session_core::StoreError;

use crate::{free_port, redis_server};

/// How long the cluster may take to come up (or back) before the test fails.
const READY_WITHIN: Duration = Duration::from_secs(15);

/// The slots each master owns, in node order.
const SLOT_RANGES: [(u16, u16); 3] = [(0, 5460), (5461, 10922), (10923, 16383)];

/// Three `redis-server` cluster nodes; every process is killed and the temp dir removed on drop.
pub struct RedisCluster {
    dir: PathBuf,
    ports: Vec<u16>,
    children: Vec<Option<Child>>,
}

impl RedisCluster {
    /// Starts three masters, joins them and waits (at most 15 s) until every node reports
    /// `cluster_state:ok`. Panics with install instructions when `redis-server` is missing.
    pub fn start() -> Self {
        let ports = cluster_ports(SLOT_RANGES.len());
        let dir = std::env::temp_dir().join(format!(
            "session-core-redis-cluster-{}-{}",
            std::process::id(),
            ports[0]
        ));
        std::fs::create_dir_all(&dir).expect("temp dir for the redis cluster");
        let mut cluster = Self {
            dir,
            children: ports.iter().map(|_| None).collect(),
            ports,
        };
        for node in 0..cluster.ports.len() {
            cluster.spawn(node);
        }
        for node in 1..cluster.ports.len() {
            let meet = format!("CLUSTER MEET 127.0.0.1 {}", cluster.ports[node]);
            assert_eq!(cluster.command(0, &meet).as_deref(), Some("+OK"), "{meet}");
        }
        for (node, (first, last)) in SLOT_RANGES.into_iter().enumerate() {
            let add = format!("CLUSTER ADDSLOTSRANGE {first} {last}");
            assert_eq!(cluster.command(node, &add).as_deref(), Some("+OK"), "{add}");
        }
        cluster.wait_until_ok();
        cluster
    }

    /// One cluster shared by the tests of a binary that run at the same time: started by the
    /// first caller, stopped when the last `Arc` goes (so it never outlives the tests).
    pub fn shared() -> Arc<Self> {
        static SHARED: Mutex<Weak<RedisCluster>> = Mutex::new(Weak::new());
        let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(cluster) = shared.upgrade() {
            return cluster;
        }
        let cluster = Arc::new(Self::start());
        *shared = Arc::downgrade(&cluster);
        cluster
    }

    /// `redis://127.0.0.1:<port>` of every node.
    pub fn urls(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|port| format!("redis://127.0.0.1:{port}"))
            .collect()
    }

    /// The slot `key` hashes to (`CLUSTER KEYSLOT`, asked of the servers themselves).
    pub fn keyslot(&self, key: &str) -> u16 {
        let reply = self.command(0, &format!("CLUSTER KEYSLOT {key}"));
        reply
            .as_deref()
            .and_then(|r| r.strip_prefix(':'))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("CLUSTER KEYSLOT {key}: {reply:?}"))
    }

    /// The node owning `slot`.
    pub fn owner(&self, slot: u16) -> usize {
        SLOT_RANGES
            .iter()
            .position(|(first, last)| (*first..=*last).contains(&slot))
            .expect("every slot has an owner")
    }

    /// Every key on every node, as `(node, key)`, in node order.
    pub fn keys(&self) -> Vec<(usize, String)> {
        (0..self.ports.len())
            .flat_map(|node| {
                let reply = self
                    .reply(node, "KEYS *")
                    .unwrap_or_else(|| panic!("KEYS * on node {node}"));
                bulk_strings(&reply).into_iter().map(move |key| (node, key))
            })
            .collect()
    }

    /// Stops one node (as a crash would: SIGKILL). Its slots stay unserved until [`resume`].
    ///
    /// [`resume`]: Self::resume
    pub fn stop(&mut self, node: usize) {
        if let Some(mut child) = self.children[node].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts a stopped node again on its port, with its cluster config (id and slots) but none
    /// of its keys, and waits until the cluster is whole again.
    pub fn resume(&mut self, node: usize) {
        self.spawn(node);
        self.wait_until_ok();
    }

    /// Sends one inline command to `node` and returns the first reply line (e.g. `+OK`, `:42`).
    pub fn command(&self, node: usize, command: &str) -> Option<String> {
        self.reply(node, command)?.into_iter().next()
    }

    /// Every line of the raw RESP reply of `node` to one inline command.
    pub fn reply(&self, node: usize, command: &str) -> Option<Vec<String>> {
        redis_server::reply(self.ports[node], command)
    }

    fn spawn(&mut self, node: usize) {
        assert!(self.children[node].is_none(), "node {node} already running");
        let port = self.ports[node];
        let config = self.dir.join(format!("nodes-{port}.conf"));
        let cluster: [&OsStr; 6] = [
            "--cluster-enabled".as_ref(),
            "yes".as_ref(),
            "--cluster-node-timeout".as_ref(),
            "2000".as_ref(),
            "--cluster-config-file".as_ref(),
            config.as_os_str(),
        ];
        self.children[node] = Some(redis_server::spawn(port, &self.dir, &cluster));
        redis_server::wait_for_ping(port, READY_WITHIN);
    }

    /// Waits until every node knows every other and sees all slots served.
    fn wait_until_ok(&self) {
        let deadline = Instant::now() + READY_WITHIN;
        let want_nodes = format!("cluster_known_nodes:{}", self.ports.len());
        loop {
            let states: Vec<Vec<String>> = (0..self.ports.len())
                .map(|node| self.reply(node, "CLUSTER INFO").unwrap_or_default())
                .collect();
            let ok = states.iter().all(|info| {
                info.iter().any(|l| l == "cluster_state:ok") && info.contains(&want_nodes)
            });
            if ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "redis cluster on ports {:?} not ok within {READY_WITHIN:?}: {:?}",
                self.ports,
                states
                    .iter()
                    .map(|info| {
                        info.iter()
                            .filter(|l| {
                                l.starts_with("cluster_state") || l.starts_with("cluster_known")
                            })
                            .cloned()
                            .collect::<Vec<_>>()
                    })
                    .collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for node in 0..self.children.len() {
            self.stop(node);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Checks that `connect_cluster` (a store's, given the one address to try) answers at once with
/// [`StoreError::Unavailable`] when no node answers or the server is not a cluster, instead of
/// returning a store that fails on every request.
pub async fn assert_connect_cluster_refuses_a_dead_address_and_a_plain_redis<T: std::fmt::Debug>(
    connect_cluster: impl AsyncFn(String) -> Result<T, StoreError>,
) {
    let redis = redis_server::RedisServer::start();
    let nowhere = format!("redis://127.0.0.1:{}", free_port());
    for (name, url) in [("nothing listening", nowhere), ("plain redis", redis.url())] {
        let started = Instant::now();
        let result = connect_cluster(url).await;
        assert!(
            matches!(result, Err(StoreError::Unavailable(_))),
            "{name}: {result:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{name}: bounded, {:?}",
            started.elapsed()
        );
    }
}

/// `count` distinct free ports whose cluster bus ports (port + 10000) are free too.
fn cluster_ports(count: usize) -> Vec<u16> {
    let mut ports: Vec<u16> = Vec::with_capacity(count);
    for _ in 0..1000 {
        let port = free_port();
        let Some(bus) = port.checked_add(10_000).filter(|_| port < 55_535) else {
            continue;
        };
        let taken = |p: u16| {
            ports
                .iter()
                .any(|&q| q == p || q + 10_000 == p || p + 10_000 == q)
        };
        if taken(port) || TcpListener::bind(("127.0.0.1", bus)).is_err() {
            continue;
        }
        ports.push(port);
        if ports.len() == count {
            return ports;
        }
    }
    panic!("no {count} free ports below 55535 with free bus ports (port + 10000) on 127.0.0.1");
}

/// The elements of a flat array of bulk strings (`*2`, `$3`, `foo`, `$3`, `bar`).
fn bulk_strings(lines: &[String]) -> Vec<String> {
    lines.iter().skip(2).step_by(2).cloned().collect()
}
