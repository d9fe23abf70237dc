import NIOCore

/// Runs a task's jobs on a NIO event loop (a job enqueued from that loop runs in the same turn, with no wake-up).
/// For work that talks to one channel: its writes and the continuations of its replies stay on the channel's thread.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
