//! MongoDB-layout object ids: 4-byte seconds, 5 random bytes, 3-byte counter, rendered as
//! 24 lowercase hex characters. Because the timestamp leads, id order is creation order.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use rand::RngCore;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A 12-byte object id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId([u8; 12]);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a 24 character lowercase hexadecimal object id")]
pub struct InvalidObjectId;

fn process_random() -> &'static [u8; 5] {
    static R: OnceLock<[u8; 5]> = OnceLock::new();
    R.get_or_init(|| {
        let mut b = [0u8; 5];
        rand::thread_rng().fill_bytes(&mut b);
        b
    })
}

static COUNTER: OnceLock<AtomicU32> = OnceLock::new();

impl ObjectId {
    /// A new id for the given creation time (seconds since the epoch).
    pub fn at(unix_seconds: i64) -> Self {
        let counter = COUNTER
            .get_or_init(|| AtomicU32::new(rand::random::<u32>() & 0x00ff_ffff))
            .fetch_add(1, Ordering::Relaxed);
        let mut b = [0u8; 12];
        // Seconds past 2106 wrap, as MongoDB's do.
        b[0..4].copy_from_slice(&(unix_seconds as u32).to_be_bytes());
        b[4..9].copy_from_slice(process_random());
        b[9..12].copy_from_slice(&counter.to_be_bytes()[1..4]);
        ObjectId(b)
    }

    /// Parses exactly 24 lowercase hex characters (Eve's item URL rule `[a-f0-9]{24}`).
    pub fn parse(s: &str) -> Result<Self, InvalidObjectId> {
        let bytes = s.as_bytes();
        if bytes.len() != 24 || !bytes.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(InvalidObjectId);
        }
        let mut out = [0u8; 12];
        hex::decode_to_slice(s, &mut out).map_err(|_| InvalidObjectId)?;
        Ok(ObjectId(out))
    }

    /// True when `s` would parse as an object id.
    pub fn is_valid(s: &str) -> bool {
        Self::parse(s).is_ok()
    }

    pub const fn from_bytes(b: [u8; 12]) -> Self {
        ObjectId(b)
    }

    /// The creation second encoded in the id.
    pub fn timestamp(&self) -> i64 {
        u32::from_be_bytes([self.0[0], self.0[1], self.0[2], self.0[3]]) as i64
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectId({})", self.to_hex())
    }
}

impl FromStr for ObjectId {
    type Err = InvalidObjectId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for ObjectId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for ObjectId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        ObjectId::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for ObjectId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ObjectId".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "format": "objectid", "pattern": "^[a-f0-9]{24}$" })
    }
    fn inline_schema() -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_24_lowercase_hex() {
        assert!(ObjectId::parse("674dbeaf08847b9501cc9132").is_ok());
        assert_eq!(
            ObjectId::parse("674DBEAF08847B9501CC9132"),
            Err(InvalidObjectId)
        );
        assert_eq!(
            ObjectId::parse("674dbeaf08847b9501cc913"),
            Err(InvalidObjectId)
        );
        assert_eq!(
            ObjectId::parse("674dbeaf08847b9501cc9132a"),
            Err(InvalidObjectId)
        );
        assert_eq!(
            ObjectId::parse("xyzdbeaf08847b9501cc9132"),
            Err(InvalidObjectId)
        );
    }

    #[test]
    fn round_trips_and_orders_by_time() {
        let a = ObjectId::at(1_700_000_000);
        let b = ObjectId::at(1_700_000_001);
        assert!(a < b);
        assert!(a.to_hex() < b.to_hex());
        assert_eq!(ObjectId::parse(&a.to_hex()).unwrap(), a);
        assert_eq!(a.timestamp(), 1_700_000_000);
    }

    #[test]
    fn ids_in_the_same_second_are_distinct_and_increasing() {
        let ids: Vec<_> = (0..1000).map(|_| ObjectId::at(1_700_000_000)).collect();
        for w in ids.windows(2) {
            assert_ne!(w[0], w[1]);
        }
    }
}
