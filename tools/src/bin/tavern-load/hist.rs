//! A fixed log-linear latency histogram in microseconds (HDR-like): exact
//! below 32 µs, then 32 buckets per power of two, so any recorded value is
//! within about 1.6 % of the value reported for its bucket. Values are capped
//! at 2^32 - 1 µs (71 minutes). Each connection task keeps its own (allocated
//! at its first sample) and they are merged at the end: no lock per sample.

/// Sub-buckets per power of two, as a power of two.
const SUB_BITS: u32 = 5;
const SUB: u64 = 1 << SUB_BITS;
/// Largest value recorded as itself.
const MAX_VALUE: u64 = u32::MAX as u64;
/// Buckets needed for values up to `MAX_VALUE`: (31 - 5 + 2) octaves of 32.
pub const BUCKETS: usize = ((32 - SUB_BITS + 1) as usize) * SUB as usize;

/// Per-task histogram: u32 counts keep it at 3.5 KiB.
pub struct Hist {
    counts: Box<[u32; BUCKETS]>,
}

/// The merged histogram.
pub struct Merged {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

fn index(value: u64) -> usize {
    let v = value.min(MAX_VALUE);
    if v < SUB {
        return v as usize;
    }
    let exponent = 63 - v.leading_zeros();
    let shift = exponent - SUB_BITS;
    (u64::from(shift) * SUB + (v >> shift)) as usize
}

/// The range of values `[low, low + width)` that land in bucket `i`.
fn bucket_range(i: usize) -> (u64, u64) {
    let i = i as u64;
    if i < SUB {
        return (i, 1);
    }
    let shift = i / SUB - 1;
    let mantissa = i - shift * SUB;
    (mantissa << shift, 1 << shift)
}

impl Hist {
    pub fn new() -> Hist {
        Hist {
            counts: Box::new([0; BUCKETS]),
        }
    }

    #[inline]
    pub fn record(&mut self, micros: u64) {
        let slot = &mut self.counts[index(micros)];
        *slot = slot.saturating_add(1);
    }
}

impl Merged {
    pub fn new() -> Merged {
        Merged {
            counts: vec![0; BUCKETS],
            total: 0,
            max: 0,
        }
    }

    /// Adds one task's histogram and its exact maximum.
    pub fn add(&mut self, hist: &Hist, max: u64) {
        for (sum, &count) in self.counts.iter_mut().zip(hist.counts.iter()) {
            *sum += u64::from(count);
            self.total += u64::from(count);
        }
        self.max = self.max.max(max);
    }

    /// The value at quantile `q` (0..=1) in microseconds: the middle of its
    /// bucket, never above the exact maximum. 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                let (low, width) = bucket_range(i);
                return (low + width / 2).min(self.max);
            }
        }
        self.max
    }

    pub fn max(&self) -> u64 {
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_close() {
        let mut last = 0;
        for v in 0..200_000u64 {
            let i = index(v);
            assert!(i == last || i == last + 1, "{v}");
            last = i;
            let (low, width) = bucket_range(i);
            assert!(low <= v && v < low + width, "{v} in {low}+{width}");
            assert!(width as f64 / low.max(1) as f64 <= 1.0 / 32.0 + 1e-9 || low < SUB);
        }
        assert!(index(MAX_VALUE) < BUCKETS);
        assert_eq!(index(u64::MAX), index(MAX_VALUE));
    }

    #[test]
    fn quantiles() {
        let mut h = Hist::new();
        for v in 1..=1000 {
            h.record(v);
        }
        let mut m = Merged::new();
        m.add(&h, 1000);
        let p50 = m.quantile(0.5);
        assert!((490..=510).contains(&p50), "{p50}");
        assert_eq!(m.quantile(1.0), 1000);
        assert!(m.quantile(0.99) >= 970);
    }
}
