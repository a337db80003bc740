// Baseline for bench_cut.py: the SVG groove written the way C++ laser-record generators do it
// (std::ofstream, std::fixed, 3 decimals), from the same points izdat writes. Not part of izdat.
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 3) { std::fprintf(stderr, "usage: svg_baseline POINTS.f64 OUT.svg\n"); return 2; }
    std::ifstream in(argv[1], std::ios::binary | std::ios::ate);
    const std::streamsize bytes = in.tellg();
    in.seekg(0);
    std::vector<double> xy(bytes / sizeof(double));
    in.read(reinterpret_cast<char*>(xy.data()), bytes);
    const size_t n = xy.size() / 2, chunk = 2000;
    std::ofstream out(argv[2]);
    out << std::fixed << std::setprecision(3);
    out << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"262mm\" height=\"262mm\" viewBox=\"0 0 262 262\">\n";
    for (size_t start = 0; start + 1 < n; start += chunk - 1) {
        out << "<path d=\"M";
        for (size_t i = start; i < n && i < start + chunk; ++i) out << xy[i] << ',' << xy[n + i] << ' ';
        out << "\"/>\n";
    }
    out << "</svg>\n";
    return 0;
}
