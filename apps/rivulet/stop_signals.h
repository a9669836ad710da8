// Waiting for SIGINT or SIGTERM without a signal handler: the signals are blocked in every thread
// and taken synchronously with sigwait, so nothing runs in signal context.
#pragma once

namespace rivulet::cli {

// Blocks SIGINT and SIGTERM in the calling thread, and so in every thread it starts afterwards.
// REQUIRES: called before any other thread is started (librdkafka's and Asio's threads included),
// or those threads could receive the signal and let it kill the process.
void block_stop_signals();

// Waits until SIGINT or SIGTERM arrives and returns its number. REQUIRES: block_stop_signals()
// was called first.
int wait_for_stop_signal();

}  // namespace rivulet::cli
