// Uses the installed Rivulet the way an application would: the README's first program, a DSL
// topology run through the test driver, with a JSON struct serde chosen by type.
#include <cstdint>
#include <iostream>
#include <string>

#include <rivulet/rivulet.h>
#include <rivulet/testing/topology_test_driver.h>

struct Reading {
  std::string vehicle_id;
  std::int64_t timestamp = 0;
  double speed_kmh = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Reading, vehicle_id, timestamp, speed_kmh)

int main() {
  rivulet::StreamsBuilder builder;
  builder.stream<std::string, Reading>("raw.vehicle.telemetry")
      .filter([](const auto&, const Reading& r) { return r.speed_kmh >= 0; })
      .map_values([](const Reading& r) { return r.speed_kmh; })
      .to("vehicle.speeds");
  rivulet::Topology topology = builder.build();

  rivulet::testing::TopologyTestDriver driver(topology);
  auto in = driver.create_input_topic<std::string, Reading>("raw.vehicle.telemetry");
  auto out = driver.create_output_topic<std::string, double>("vehicle.speeds");
  in.pipe_input("V-1", Reading{"V-1", 1000, 87.5});
  in.pipe_input("V-2", Reading{"V-2", 1001, -1});
  const double speed = out.read_value();
  std::cout << "key=V-1 speed=" << speed << '\n';
  return speed == 87.5 && out.is_empty() ? 0 : 1;
}
