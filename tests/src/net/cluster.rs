//! The steps only a cluster takes: a client switching nodes, a node crashing, a node pausing
//! (a long GC, a `SIGSTOP`, a VM migration) possibly past its lease. Everything else is the
//! single-node [`Step`], with [`Step::CrashServer`] crashing node 0.
//!
//! Clients start spread over the nodes (client `i` on node `i % nodes`), so the racing
//! state-machine moves of [`Step::Concurrent`] race across nodes: both nodes validate a move
//! from `todo` against the head they hold, one append lands, and the other node finds the head
//! moved, rebuilds, and judges its batch again.

use proptest::prelude::*;

use super::{Net, Step, action, step};

/// One step of a cluster's schedule. Client and node numbers are taken modulo their counts.
#[derive(Clone, Debug)]
pub enum ClusterStep {
    /// A step of the single-node simulation.
    Net(Step),
    /// A client moves to another node (a load balancer's choice): its connection drops and it
    /// connects there.
    Switch {
        /// Which client.
        client: u8,
        /// To which node.
        node: u8,
    },
    /// A node crashes and restarts from the log.
    CrashNode {
        /// Which node.
        node: u8,
        /// Appends committed, unconfirmed, before the crash.
        torn: u8,
    },
    /// A node stops for a while: it handles nothing, and its lease may run out meanwhile.
    Pause {
        /// Which node.
        node: u8,
        /// For how long (ms); the lease lasts 3 s.
        ms: u16,
    },
}

/// A random step of a cluster's schedule.
pub fn cluster_step() -> impl Strategy<Value = ClusterStep> {
    prop_oneof![
        28 => step().prop_map(ClusterStep::Net),
        // More races than the single-node mix: they are what a cluster must order.
        3 => (any::<u8>(), action()).prop_map(|(clients, action)| ClusterStep::Net(Step::Concurrent { clients, action })),
        3 => (any::<u8>(), any::<u8>()).prop_map(|(client, node)| ClusterStep::Switch { client, node }),
        1 => (any::<u8>(), 0u8..4).prop_map(|(node, torn)| ClusterStep::CrashNode { node, torn }),
        1 => (any::<u8>(), 0u16..8_000).prop_map(|(node, ms)| ClusterStep::Pause { node, ms }),
    ]
}

impl Net {
    /// From now on the bus delivers node `n` nothing (its listening connection is down): it
    /// hears of other nodes' appends only by its own checks. For tests that need a node
    /// behind the log.
    pub fn deafen(&mut self, n: usize) {
        self.nodes[n].deaf = true;
    }

    /// Runs one step of a cluster's schedule.
    pub fn run_cluster(&mut self, step: &ClusterStep) {
        let (clients, nodes) = (self.clients.len(), self.nodes.len());
        match *step {
            ClusterStep::Net(ref step) => self.run(step),
            ClusterStep::Switch { client, node } => {
                self.log(|| format!("step {step:?}"));
                let (i, home) = (usize::from(client) % clients, usize::from(node) % nodes);
                if self.clients[i].home != home {
                    self.stats.switches += 1;
                    self.clients[i].home = home;
                    self.drop_link(i);
                    self.connect(i);
                }
            }
            ClusterStep::CrashNode { node, torn } => {
                self.log(|| format!("step {step:?}"));
                self.crash_node(usize::from(node) % nodes, torn);
            }
            ClusterStep::Pause { node, ms } => {
                self.log(|| format!("step {step:?}"));
                self.stats.pauses += 1;
                let node = &mut self.nodes[usize::from(node) % nodes];
                node.paused_until = node.paused_until.max(self.now + u64::from(ms));
            }
        }
    }
}
