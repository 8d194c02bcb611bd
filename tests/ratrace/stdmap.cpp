// stdmap.cpp - a small C++ program on std::map and std::string: new and delete through malloc
// usage: stdmap [N]   builds a map of N (default 100000) numbers to their decimal strings,
// erases every third, and prints the size and a checksum.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

int main(int argc, char **argv)
{
    long n = argc > 1 ? std::atol(argv[1]) : 100000;
    std::map<long, std::string> m;
    for (long i = 0; i < n; i++) m[i * 7919 % n] = "value-" + std::to_string(i);
    for (long i = 0; i < n; i += 3) m.erase(i);
    unsigned long sum = 0;
    for (const auto &kv : m) sum = sum * 31 + kv.second.size() + (unsigned long)kv.first;
    std::printf("stdmap: %zu entries, checksum %lu\n", m.size(), sum);
    return 0;
}
