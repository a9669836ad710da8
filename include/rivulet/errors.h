// Exceptions thrown by Rivulet.
//
// Expected, per-record failures (a record that does not deserialize, a processor that throws on one
// record) are not reported through these to the user's code: they go to the configured exception
// handler and are counted. These exceptions are for programming and configuration errors, which
// fail fast with a message naming the offending key, node or line.
#pragma once

#include <stdexcept>
#include <string>

namespace rivulet {

// Base of every exception Rivulet throws.
class StreamsException : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A configuration key is unknown, has a value of the wrong type, or is out of range.
class ConfigException : public StreamsException {
 public:
  using StreamsException::StreamsException;
};

// The topology is invalid: unknown parent, duplicate name, cycle, type mismatch, missing topic.
class TopologyException : public StreamsException {
 public:
  explicit TopologyException(const std::string& what)
      : StreamsException("Invalid topology: " + what) {}
};

// A state store cannot be queried now: unknown name, wrong type, the instance is not running, or
// the store's tasks are still restoring (Kafka Streams' InvalidStateStoreException). Retry later
// for the transient cases.
class InvalidStateStoreException : public StreamsException {
 public:
  using StreamsException::StreamsException;
};

// Bytes could not be turned into a value, or a value into bytes.
class SerializationException : public StreamsException {
 public:
  using StreamsException::StreamsException;
};

}  // namespace rivulet

namespace rivulet {

// A record could not be processed and the configured exception handler chose to fail. The stream
// task stops; the message names the task, the processor node and the record's origin.
class ProcessingFailedException : public StreamsException {
 public:
  using StreamsException::StreamsException;
};

}  // namespace rivulet
