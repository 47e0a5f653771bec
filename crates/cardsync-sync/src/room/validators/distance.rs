//! A distance rule for a composite geo value: a card's `{lat, lon}` position stays within
//! `max_metres` of its planned point.
//!
//! The seed app's fibre sections: a crew records where a section actually runs, and a
//! position further than, say, 100 m from the planned path is a typo or a wrong card. Both
//! fields are composite object registers holding `{lat, lon}` in degrees. The distance is the
//! great-circle (haversine) distance on a sphere of the Earth's mean radius: accurate to about
//! 0.5 %, plenty for a tolerance of metres to kilometres, and plain `f64` arithmetic, so every
//! node computes the same verdict. A batch is judged only for cards whose position or planned
//! point it changed, and only when both are set; a value that is not `{lat, lon}` numbers is
//! the schema's business (its shape), not this rule's.

use std::collections::BTreeMap;

use cardsync_core::Value;
use serde::{Deserialize, Serialize};

use super::read::{live_card, register};
use crate::room::validator::{Proposal, Refused, Validator};

/// The Earth's mean radius, in metres (IUGG).
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// See the module docs of `room/validators/distance.rs`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Distance {
    /// The card kind the rule applies to.
    pub kind: String,
    /// The position field (a `{lat, lon}` object register).
    pub field: String,
    /// The planned point field (a `{lat, lon}` object register).
    pub planned: String,
    /// The largest distance allowed, in metres.
    pub max_metres: f64,
}

impl Distance {
    /// The stable code of its refusals.
    pub const CODE: &'static str = "too_far";
}

/// A `{lat, lon}` object's coordinates, in degrees.
fn point(value: &Value) -> Option<(f64, f64)> {
    let Value::Object(map) = value else {
        return None;
    };
    let coordinate = |map: &BTreeMap<String, Value>, key: &str| match map.get(key) {
        Some(Value::Number(n)) => Some(*n),
        _ => None,
    };
    Some((coordinate(map, "lat")?, coordinate(map, "lon")?))
}

/// The great-circle distance between two points, in metres (haversine).
pub(crate) fn metres_between((lat1, lon1): (f64, f64), (lat2, lon2): (f64, f64)) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let d_phi = (lat2 - lat1).to_radians();
    let d_lambda = (lon2 - lon1).to_radians();
    let a = (d_phi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (d_lambda / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
}

impl Validator for Distance {
    fn validate(&self, proposal: &Proposal<'_>) -> Result<(), Refused> {
        for &id in &proposal.cards {
            let Some(card) = live_card(proposal.after, id).filter(|c| c.kind == self.kind) else {
                continue;
            };
            let (Some(at), Some(planned)) =
                (register(&card, &self.field), register(&card, &self.planned))
            else {
                continue;
            };
            let before = proposal.before.card(id);
            let unchanged = before.as_ref().is_some_and(|b| {
                register(b, &self.field) == Some(at) && register(b, &self.planned) == Some(planned)
            });
            if unchanged {
                continue;
            }
            let (Some(a), Some(p)) = (point(at), point(planned)) else {
                continue;
            };
            let metres = metres_between(a, p);
            if metres > self.max_metres {
                let reason = format!(
                    "card {id}'s {} is {metres:.0} m from its {}; at most {} m is allowed",
                    self.field, self.planned, self.max_metres
                );
                return Err(Refused::new(Self::CODE, reason));
            }
        }
        Ok(())
    }
}
