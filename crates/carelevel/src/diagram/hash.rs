//! A small fast hash (the multiply-rotate hash of Firefox and rustc) for the diagram
//! tables, whose keys are a few integers: the standard SipHash costs more than the
//! work it guards. Not for keys an attacker picks to collide: a ruleset can only
//! slow its own load, and the work budget bounds that.

use std::hash::{BuildHasher, Hasher};

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// Fold `word` into `hash`.
#[inline]
pub(crate) fn mix(hash: u64, word: u64) -> u64 {
    (hash.rotate_left(5) ^ word).wrapping_mul(SEED)
}

/// [`Hasher`] over [`mix`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Fx(u64);

impl Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = mix(self.0, u64::from(b));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = mix(self.0, u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = mix(self.0, n);
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = mix(self.0, n as u64);
    }
}

/// [`BuildHasher`] of [`Fx`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FxBuild;

impl BuildHasher for FxBuild {
    type Hasher = Fx;

    fn build_hasher(&self) -> Fx {
        Fx::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixing_depends_on_order_and_value() {
        let a = mix(mix(0, 1), 2);
        let b = mix(mix(0, 2), 1);
        assert_ne!(a, b);
        assert_ne!(mix(0, 1), mix(0, 2));
        assert_eq!(
            FxBuild.hash_one((1u32, 2u32)),
            FxBuild.hash_one((1u32, 2u32))
        );
    }
}
