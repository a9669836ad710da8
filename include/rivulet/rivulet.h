// Everything a Rivulet application includes: the DSL, the Processor API, serdes and config.
#pragma once

#include <rivulet/consumed.h>
#include <rivulet/errors.h>
#include <rivulet/kafka_streams.h>
#include <rivulet/key_value.h>
#include <rivulet/kstream.h>
#include <rivulet/named.h>
#include <rivulet/processor.h>
#include <rivulet/produced.h>
#include <rivulet/record.h>
#include <rivulet/repartitioned.h>
#include <rivulet/serde.h>
#include <rivulet/serdes.h>
#include <rivulet/state/key_value_store.h>
#include <rivulet/state/restore_listener.h>
#include <rivulet/state/stores.h>
#include <rivulet/state/window_store.h>
#include <rivulet/streams_builder.h>
#include <rivulet/streams_config.h>
#include <rivulet/topology.h>
