//! The outbox events this instance delivered lately, by sequence: so that
//! catching up after a lost pub/sub connection (or after delivering locally
//! while Redis was down) never hands a socket the same event twice.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

/// How many sequences are remembered.
const CAPACITY: usize = 200_000;

/// A bounded set of delivered sequences.
#[derive(Default)]
pub struct Recent {
    inner: Mutex<(HashSet<i64>, VecDeque<i64>)>,
}

impl Recent {
    /// Records `id`; `false` when it was delivered already.
    pub fn first_time(&self, id: i64) -> bool {
        let mut guard = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (seen, order) = &mut *guard;
        if !seen.insert(id) {
            return false;
        }
        order.push_back(id);
        if order.len() > CAPACITY
            && let Some(oldest) = order.pop_front()
        {
            seen.remove(&oldest);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sequence_is_delivered_once_and_the_oldest_are_forgotten() {
        let recent = Recent::default();
        assert!(recent.first_time(7));
        assert!(!recent.first_time(7));
        for id in 0..CAPACITY as i64 + 10 {
            recent.first_time(1_000 + id);
        }
        assert!(recent.first_time(7), "forgotten once the window moved on");
    }
}
