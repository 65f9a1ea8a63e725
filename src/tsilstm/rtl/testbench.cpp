// Verilator testbench of the generated accelerator: loads a program, runs it against a DRAM model
// and writes the statistics. The DRAM model serves one read or write beat per cycle while its
// byte credit (bandwidth in bytes per cycle, accumulated) allows, returns read data after a fixed
// latency in request order, and counts every byte by the region (traffic kind) it falls in.
//
// usage: vaccel PROGRAM IMAGE REGIONS BYTES_PER_CYCLE LATENCY_CYCLES MAX_CYCLES IMAGE_OUT STATS_OUT
//   PROGRAM: 16 bytes per instruction, little endian; IMAGE: the DRAM bytes; REGIONS: lines of
//   "kind start end"; the image after the run goes to IMAGE_OUT, "key value" lines to STATS_OUT.
#include "Vaccel.h"
#include "verilated.h"
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <string>
#include <vector>
#include "counters.h"

struct Region { std::string kind; uint64_t start, end; };
struct Pending { uint64_t ready; uint64_t addr; int tag; };

static std::vector<uint8_t> read_file(const char* path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) { fprintf(stderr, "cannot read %s\n", path); exit(2); }
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

static const std::string& kind_of(const std::vector<Region>& regions, uint64_t byte) {
    static const std::string none = "unmapped";
    for (const Region& r : regions) if (byte >= r.start && byte < r.end) return r.kind;
    return none;
}

int main(int argc, char** argv) {
    if (argc != 9) { fprintf(stderr, "usage: vaccel PROGRAM IMAGE REGIONS BPC LATENCY MAX_CYCLES IMAGE_OUT STATS_OUT\n"); return 2; }
    std::vector<uint8_t> program = read_file(argv[1]);
    std::vector<uint8_t> image = read_file(argv[2]);
    std::vector<Region> regions;
    {
        std::ifstream in(argv[3]);
        Region r;
        while (in >> r.kind >> r.start >> r.end) regions.push_back(r);
    }
    const double bytes_per_cycle = atof(argv[4]);
    const uint64_t latency = strtoull(argv[5], nullptr, 10);
    const uint64_t max_cycles = strtoull(argv[6], nullptr, 10);
    const int beat_words = BEAT_BITS / 32;
    const uint64_t beat_bytes = BEAT_BITS / 8;

    VerilatedContext ctx;
    Vaccel top(&ctx);
    auto tick = [&]() { top.clk = 0; top.eval(); top.clk = 1; top.eval(); };
    top.rst = 1; top.start = 0; top.prog_we = 0; top.rd_req_ready = 0; top.rd_rsp_valid = 0; top.wr_ready = 0;
    for (int i = 0; i < 4; ++i) tick();
    top.rst = 0;
    for (size_t i = 0; i * 16 < program.size(); ++i) {
        top.prog_we = 1; top.prog_addr = i;
        for (int w = 0; w < 4; ++w) { uint32_t v; memcpy(&v, &program[i * 16 + w * 4], 4); top.prog_data[w] = v; }
        tick();
    }
    top.prog_we = 0;
    top.start = 1; tick(); top.start = 0;

    std::map<std::string, uint64_t> read_bytes, write_bytes;
    std::deque<Pending> pending;
    double credit = 0.0;
    uint64_t cycles = 0;
    while (!top.done) {
        if (cycles >= max_cycles) { fprintf(stderr, "no done after %llu cycles\n", (unsigned long long)cycles); return 3; }
        credit += bytes_per_cycle;
        const double cap = beat_bytes + bytes_per_cycle;
        if (credit > cap) credit = cap;
        // inputs for this cycle: a response whose latency has passed, the ready flags from the credit
        bool rsp = !pending.empty() && pending.front().ready <= cycles;
        top.rd_rsp_valid = rsp;
        if (rsp) {
            const Pending& p = pending.front();
            for (int w = 0; w < beat_words; ++w) {
                uint32_t v = 0; uint64_t at = p.addr * beat_bytes + w * 4;
                if (at + 4 <= image.size()) memcpy(&v, &image[at], 4);
                top.rd_rsp_data[w] = v;
            }
            top.rd_rsp_tag = p.tag;
        }
        top.clk = 0; top.eval();
        bool write = top.wr_valid && credit >= beat_bytes;
        top.wr_ready = write;
        bool read = top.rd_req_valid && credit - (write ? beat_bytes : 0) >= beat_bytes;
        top.rd_req_ready = read;
        top.eval();
        uint64_t wr_addr = top.wr_addr, rd_addr = top.rd_req_addr; int rd_tag = top.rd_req_tag;
        uint32_t wr_data[BEAT_BITS / 32];
        for (int w = 0; w < beat_words; ++w) wr_data[w] = top.wr_data[w];
        top.clk = 1; top.eval();
        if (rsp) pending.pop_front();
        if (write) {
            credit -= beat_bytes;
            uint64_t at = wr_addr * beat_bytes;
            if (at + beat_bytes > image.size()) { fprintf(stderr, "write beyond the image at beat %llu\n", (unsigned long long)wr_addr); return 3; }
            memcpy(&image[at], wr_data, beat_bytes);
            write_bytes[kind_of(regions, at)] += beat_bytes;
        }
        if (read) {
            credit -= beat_bytes;
            pending.push_back({cycles + latency, rd_addr, rd_tag});
            read_bytes[kind_of(regions, rd_addr * beat_bytes)] += beat_bytes;
        }
        ++cycles;
    }
    std::ofstream out(argv[7], std::ios::binary);
    out.write(reinterpret_cast<const char*>(image.data()), image.size());
    FILE* stats = fopen(argv[8], "w");
    fprintf(stats, "cycles %llu\n", (unsigned long long)cycles);
    for (auto& kv : read_bytes) fprintf(stats, "read %s %llu\n", kv.first.c_str(), (unsigned long long)kv.second);
    for (auto& kv : write_bytes) fprintf(stats, "write %s %llu\n", kv.first.c_str(), (unsigned long long)kv.second);
    WRITE_COUNTERS(stats, top);
    fclose(stats);
    return 0;
}
