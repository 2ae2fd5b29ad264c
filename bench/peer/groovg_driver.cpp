// Drives groovg/itch-book's default L3 book over a whole raw ITCH 5.0 file held in memory, the
// way `peer_itch book FILE --passes N` drives Kestrel's: per pass a fresh `BookManager<>`
// (`Book<PooledOrderStore>`, no BBO or trade callbacks) parses and applies the whole buffer
// with `itch::parse`; the best wall-clock and thread-CPU pass of N is printed.
//
// Not part of the Rust build and not run by CI: it compiles against the peer's public headers,
// fetched outside this repository (see build_groovg.sh for the commits and flags).
//
//   groovg_driver FILE [PASSES]      (PASSES defaults to 5)
//
// Under callgrind, collect only the pass: `--toggle-collect='*measured_pass*'` with PASSES 1.

#include <itch/book_manager.hpp>
#include <itch/parser.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <time.h>

namespace {

struct PassResult {
    itch::ParseResult parse;
    itch::Stats stats;
    std::uint64_t live = 0;
    std::size_t books = 0;
};

// One pass from fresh state, the manager built and destroyed inside (as Kestrel's
// `measured_file_pass` builds and drops its books).
[[gnu::noinline]] PassResult measured_pass(std::span<const std::byte> data) {
    itch::BookManager<> mgr;
    const itch::ParseResult r = itch::parse(data, mgr);
    return PassResult{r, mgr.stats(), mgr.orders().live_orders(), mgr.book_count()};
}

std::vector<std::byte> read_file(const char* path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw std::runtime_error(std::string(path) + ": cannot open");
    const std::streamsize size = in.tellg();
    std::vector<std::byte> buf(static_cast<std::size_t>(size));
    in.seekg(0);
    if (!in.read(reinterpret_cast<char*>(buf.data()), size))
        throw std::runtime_error(std::string(path) + ": short read");
    return buf;
}

double thread_cpu_s() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        std::fprintf(stderr, "usage: groovg_driver FILE [PASSES]\n");
        return 2;
    }
    try {
        const std::vector<std::byte> data = read_file(argv[1]);
        const int passes = argc == 3 ? std::max(1, std::atoi(argv[2])) : 5;
        double best_wall = 1e300;
        double best_cpu = 1e300;
        PassResult last{};
        for (int i = 0; i < passes; ++i) {
            const double c0 = thread_cpu_s();
            const auto t0 = std::chrono::steady_clock::now();
            last = measured_pass(std::span<const std::byte>(data));
            const double wall =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            const double cpu = thread_cpu_s() - c0;
            best_wall = std::min(best_wall, wall);
            best_cpu = std::min(best_cpu, cpu);
        }
        const itch::ParseResult& r = last.parse;
        const itch::Stats& s = last.stats;
        const double n = static_cast<double>(r.messages + r.unknown + r.malformed);
        std::printf(
            "groovg %s: messages=%llu unknown=%llu malformed=%llu adds=%llu executes=%llu "
            "cancels=%llu deletes=%llu replaces=%llu missing=%llu dup=%llu rejected=%llu "
            "live=%llu books=%zu best_wall=%.1fM msg/s (%.1f ns/msg) best_cpu=%.2fM msg/s\n",
            argv[1], static_cast<unsigned long long>(r.messages),
            static_cast<unsigned long long>(r.unknown),
            static_cast<unsigned long long>(r.malformed),
            static_cast<unsigned long long>(s.adds), static_cast<unsigned long long>(s.executes),
            static_cast<unsigned long long>(s.cancels),
            static_cast<unsigned long long>(s.deletes),
            static_cast<unsigned long long>(s.replaces),
            static_cast<unsigned long long>(s.missing_ref),
            static_cast<unsigned long long>(s.dup_ref),
            static_cast<unsigned long long>(s.rejected),
            static_cast<unsigned long long>(last.live), last.books, n / best_wall / 1e6,
            best_wall * 1e9 / n, n / best_cpu / 1e6);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "groovg_driver: %s\n", e.what());
        return 1;
    }
}
