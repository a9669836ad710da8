// Serdes: how values of a type become bytes on a topic, and back.
//
// A serde is any copyable object that satisfies `Serde<S, T>`:
//
//   void serialize(std::string_view topic, const T& value, Bytes& out) const;  // replaces `out`
//   T deserialize(std::string_view topic, ByteView data) const;  // throws SerializationException
//
// Serializing into a caller-owned buffer lets the runtime reuse one buffer per sink instead of
// allocating per record. A serde may also say how it maps Kafka's null (a tombstone, a record
// without a key):
//
//   bool is_null(const T& value) const;          // serialize this value as null
//   T null_value(std::string_view topic) const;  // what a null deserializes to; may throw
//
// Without `null_value`, null deserializes to `T{}`. `std::optional<T>` maps null to `nullopt`,
// and is the type to use when null must stay distinguishable. Serdes are chosen by type through
// `DefaultSerde<T>` (see serdes.h for the built-ins and how to register your own), or passed
// explicitly with `Consumed::with(...)`, `Produced::with(...)` and friends.
//
// Thread-safety: serdes are called concurrently from several stream threads and must be
// safe for concurrent const use.
#pragma once

#include <concepts>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <rivulet/errors.h>
#include <rivulet/record.h>

namespace rivulet {

template <class S, class T>
concept Serde = std::copy_constructible<S> &&
    requires(const S& serde, const T& value, Bytes& out, std::string_view topic, ByteView data) {
  { serde.serialize(topic, value, out) } -> std::same_as<void>;
  { serde.deserialize(topic, data) } -> std::same_as<T>;
};

namespace detail {
template <class S, class T>
concept SerdeWithIsNull = requires(const S& serde, const T& value) {
  { serde.is_null(value) } -> std::convertible_to<bool>;
};
template <class S, class T>
concept SerdeWithNullValue = requires(const S& serde, std::string_view topic) {
  { serde.null_value(topic) } -> std::same_as<T>;
};
}  // namespace detail

// A type-erased serde for `T`: what the topology stores, so that operators and nodes are not
// templated on serde types. Cheap to copy (shares one immutable implementation).
template <class T>
class AnySerde {
 public:
  template <Serde<T> S>
  requires(!std::same_as<std::remove_cvref_t<S>, AnySerde>)
      AnySerde(S serde)  // NOLINT(google-explicit-constructor): serdes convert implicitly by design
      : impl_(std::make_shared<Model<S>>(std::move(serde))) {}

  void serialize(std::string_view topic, const T& value, Bytes& out) const {
    impl_->serialize(topic, value, out);
  }
  T deserialize(std::string_view topic, ByteView data) const {
    return impl_->deserialize(topic, data);
  }
  bool is_null(const T& value) const { return impl_->is_null(value); }
  T null_value(std::string_view topic) const { return impl_->null_value(topic); }

  // Serializes `value` into `out`; returns false (and leaves `out` alone) for a null value.
  bool serialize_nullable(std::string_view topic, const T& value, Bytes& out) const {
    if (is_null(value)) return false;
    serialize(topic, value, out);
    return true;
  }
  // Deserializes bytes, or maps a null (absent bytes) through `null_value`.
  T deserialize_nullable(std::string_view topic, const std::optional<ByteView>& data) const {
    return data ? deserialize(topic, *data) : null_value(topic);
  }

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual void serialize(std::string_view topic, const T& value, Bytes& out) const = 0;
    virtual T deserialize(std::string_view topic, ByteView data) const = 0;
    virtual bool is_null(const T& value) const = 0;
    virtual T null_value(std::string_view topic) const = 0;
  };
  template <class S>
  struct Model final : Concept {
    explicit Model(S s) : serde(std::move(s)) {}
    void serialize(std::string_view topic, const T& value, Bytes& out) const override {
      serde.serialize(topic, value, out);
    }
    T deserialize(std::string_view topic, ByteView data) const override {
      return serde.deserialize(topic, data);
    }
    bool is_null(const T& value) const override {
      if constexpr (detail::SerdeWithIsNull<S, T>) {
        return serde.is_null(value);
      } else {
        return false;
      }
    }
    T null_value(std::string_view topic) const override {
      if constexpr (detail::SerdeWithNullValue<S, T>) {
        return serde.null_value(topic);
      } else if constexpr (std::is_default_constructible_v<T>) {
        return T{};
      } else {
        throw SerializationException("null " +
                                     std::string(topic.empty() ? "data" : "data on topic ") +
                                     std::string(topic) + " for a type with no null value");
      }
    }
    S serde;
  };
  std::shared_ptr<const Concept> impl_;
};

// The serde chosen for `T` when none is given. Specialize it for your own types:
//
//   template <> struct rivulet::DefaultSerde<MyType> { using type = MySerde; };
//
// serdes.h specializes it for the built-in types, for `std::optional<T>`, and for every type that
// nlohmann::json can convert (so a struct with `NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE` gets JSON).
template <class T>
struct DefaultSerde;

template <class T>
concept HasDefaultSerde = requires {
  typename DefaultSerde<T>::type;
};

// The default serde of `T`; a compile error names `T` when it has none.
template <class T>
AnySerde<T> default_serde() {
  static_assert(HasDefaultSerde<T>,
                "no default serde for this type: specialize rivulet::DefaultSerde<T>, give it "
                "nlohmann::json to_json/from_json, or pass a serde explicitly");
  return AnySerde<T>(typename DefaultSerde<T>::type{});
}

}  // namespace rivulet
