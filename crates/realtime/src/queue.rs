//! A small bounded queue from many senders to one receiver, for the packets
//! of one connection. Tokio's `mpsc` allocates a block of 32 slots and a
//! cache-padded channel (about 2 KiB) per queue even when it holds one
//! packet; with two queues per socket and 10 000 sockets that is 40 MiB.
//! This one is a `VecDeque` behind a mutex that grows with what waits in it
//! and gives its room back whenever it is drained (an idle socket's queue
//! holds no buffer; a delivery costs one allocation and one free).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use tokio::sync::Notify;

/// What the mutex guards: the items and the receiver waiting for one.
struct Slots<T> {
    items: VecDeque<T>,
    /// The receiver's waker while it waits for an item or the end (kept
    /// with the items, so an item pushed after its check always wakes it).
    waiting: Option<Waker>,
    /// Whether a sender evicted the queue's owner (see [`Sender::evict`]).
    evicted: bool,
    /// Who waits to learn of that.
    watching: Option<Waker>,
}

struct Shared<T> {
    slots: Mutex<Slots<T>>,
    /// Room: for senders waiting in [`Sender::send`].
    space: Notify,
    capacity: usize,
    senders: AtomicUsize,
    receiver_alive: AtomicBool,
}

impl<T> Shared<T> {
    fn slots(&self) -> std::sync::MutexGuard<'_, Slots<T>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wakes the receiver if it waits.
    fn wake_receiver(&self) {
        let waiting = self.slots().waiting.take();
        if let Some(waker) = waiting {
            waker.wake();
        }
    }
}

/// The sending side; cloning it adds a sender.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving side.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

/// Why an item was not queued: it comes back.
#[derive(Debug, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The queue holds `capacity` items.
    Full(T),
    /// The receiver is gone.
    Closed(T),
}

/// A queue of at most `capacity` items.
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        slots: Mutex::new(Slots {
            items: VecDeque::new(),
            waiting: None,
            evicted: false,
            watching: None,
        }),
        space: Notify::new(),
        capacity: capacity.max(1),
        senders: AtomicUsize::new(1),
        receiver_alive: AtomicBool::new(true),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

impl<T> Sender<T> {
    /// Queues `item` unless the queue is full or its receiver gone.
    pub fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        if !self.shared.receiver_alive.load(Ordering::Acquire) {
            return Err(TrySendError::Closed(item));
        }
        let waiting = {
            let mut slots = self.shared.slots();
            if slots.items.len() >= self.shared.capacity {
                return Err(TrySendError::Full(item));
            }
            slots.items.push_back(item);
            slots.waiting.take()
        };
        if let Some(waker) = waiting {
            waker.wake();
        }
        Ok(())
    }

    /// Tells the queue's owner that it is out: the hub does this to a
    /// socket that could not keep up. What is queued stays for the receiver.
    pub fn evict(&self) {
        let watching = {
            let mut slots = self.shared.slots();
            slots.evicted = true;
            slots.watching.take()
        };
        if let Some(waker) = watching {
            waker.wake();
        }
    }

    /// Ready once a sender called [`Sender::evict`].
    pub fn poll_evicted(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut slots = self.shared.slots();
        if slots.evicted {
            return Poll::Ready(());
        }
        match &mut slots.watching {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            watching => *watching = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Queues `item`, waiting for room while the queue is full; the item
    /// comes back when the receiver is gone.
    pub async fn send(&self, mut item: T) -> Result<(), T> {
        loop {
            let space = self.shared.space.notified();
            tokio::pin!(space);
            // Registered before the attempt, so room made after it wakes us.
            space.as_mut().enable();
            match self.try_send(item) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Closed(back)) => return Err(back),
                Err(TrySendError::Full(back)) => {
                    item = back;
                    space.await;
                }
            }
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.senders.fetch_add(1, Ordering::AcqRel);
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            // The last sender: a waiting receiver learns the queue ended.
            self.shared.wake_receiver();
        }
    }
}

impl<T> Receiver<T> {
    /// The next item; `None` once every sender is gone and nothing waits.
    pub async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// [`Receiver::recv`] by hand: no future to keep while it waits.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut slots = self.shared.slots();
        if let Some(item) = self.pop(&mut slots) {
            return Poll::Ready(Some(item));
        }
        if self.shared.senders.load(Ordering::Acquire) == 0 {
            return Poll::Ready(None);
        }
        match &mut slots.waiting {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            waiting => *waiting = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The next item if one waits.
    pub fn try_recv(&mut self) -> Option<T> {
        let mut slots = self.shared.slots();
        self.pop(&mut slots)
    }

    /// Takes the first item (under the lock), giving the room back once
    /// drained and waking senders that waited for room.
    fn pop(&self, slots: &mut Slots<T>) -> Option<T> {
        let was_full = slots.items.len() >= self.shared.capacity;
        let item = slots.items.pop_front();
        if slots.items.is_empty() && slots.items.capacity() > 0 {
            // Drained: give the room back, so an idle socket keeps none.
            slots.items.shrink_to_fit();
        }
        if was_full {
            self.shared.space.notify_waiters();
        }
        item
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.shared.receiver_alive.store(false, Ordering::Release);
        self.shared.slots().items.clear();
        self.shared.space.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn items_arrive_in_order_and_a_full_queue_refuses() {
        let (sender, mut receiver) = channel(2);
        assert_eq!(sender.try_send(1), Ok(()));
        assert_eq!(sender.clone().try_send(2), Ok(()));
        assert_eq!(sender.try_send(3), Err(TrySendError::Full(3)));
        assert_eq!(receiver.recv().await, Some(1));
        assert_eq!(receiver.try_recv(), Some(2));
        assert_eq!(receiver.try_recv(), None);
        assert_eq!(sender.try_send(4), Ok(()));
        assert_eq!(receiver.recv().await, Some(4));
    }

    #[tokio::test]
    async fn a_waiting_receiver_wakes_for_an_item_and_ends_with_the_last_sender() {
        let (sender, mut receiver) = channel(4);
        let second = sender.clone();
        let waiting = tokio::spawn(async move {
            let first = receiver.recv().await;
            let after = receiver.recv().await;
            (first, after)
        });
        tokio::task::yield_now().await;
        sender.try_send("a").unwrap();
        drop(sender);
        drop(second);
        assert_eq!(waiting.await.unwrap(), (Some("a"), None));
    }

    #[tokio::test]
    async fn a_sender_waits_for_room_and_gets_its_item_back_when_the_receiver_goes() {
        let (sender, mut receiver) = channel(1);
        sender.try_send(1).unwrap();
        let blocked = sender.clone();
        let waiting = tokio::spawn(async move { blocked.send(2).await });
        tokio::task::yield_now().await;
        assert_eq!(receiver.recv().await, Some(1));
        assert_eq!(waiting.await.unwrap(), Ok(()));
        assert_eq!(receiver.recv().await, Some(2));

        sender.try_send(3).unwrap();
        let blocked = sender.clone();
        let waiting = tokio::spawn(async move { blocked.send(4).await });
        tokio::task::yield_now().await;
        drop(receiver);
        assert_eq!(waiting.await.unwrap(), Err(4));
    }

    #[tokio::test]
    async fn an_eviction_wakes_the_watcher_and_leaves_the_items() {
        let (sender, mut receiver) = channel(4);
        let owner = sender.clone();
        sender.try_send(1).unwrap();
        let watching = tokio::spawn(async move {
            std::future::poll_fn(|cx| owner.poll_evicted(cx)).await;
            owner.try_send(2)
        });
        tokio::task::yield_now().await;
        assert!(!watching.is_finished(), "nobody evicted it yet");
        sender.evict();
        assert_eq!(
            watching.await.unwrap(),
            Ok(()),
            "the queue still takes items"
        );
        assert_eq!(receiver.recv().await, Some(1));
        assert_eq!(receiver.recv().await, Some(2));
    }

    #[test]
    fn senders_learn_the_receiver_is_gone() {
        let (sender, receiver) = channel(4);
        drop(receiver);
        assert_eq!(sender.try_send(1), Err(TrySendError::Closed(1)));
    }
}
