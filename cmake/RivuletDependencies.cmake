# Every dependency comes from Debian's packages; scripts/setup.sh installs them.
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(spdlog REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka)
# Boost's header-only libraries: Asio for the development broker's TCP forwarder (and the HTTP
# server later).
find_package(Boost 1.74 REQUIRED)
# RocksDB for the persistent state stores (Debian's librocksdb-dev ships a CMake package).
find_package(RocksDB REQUIRED)
# prometheus-cpp (Debian's prometheus-cpp-dev) for the metrics registry each KafkaStreams owns.
find_package(prometheus-cpp CONFIG REQUIRED)
