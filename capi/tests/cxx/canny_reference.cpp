// The reference for the edges test: the same conversion and Canny call as
// shmframe-opencv-edges, on a raw BGR image read from a file, written raw.
// canny_reference WIDTH HEIGHT IN.bgr OUT.gray
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char **argv) {
    if (argc != 5) return 2;
    const int width = std::atoi(argv[1]), height = std::atoi(argv[2]);
    std::vector<unsigned char> bgr(static_cast<std::size_t>(width) * height * 3);
    FILE *in = std::fopen(argv[3], "rb");
    if (!in || std::fread(bgr.data(), 1, bgr.size(), in) != bgr.size()) return 1;
    std::fclose(in);
    cv::Mat image(height, width, CV_8UC3, bgr.data()), gray, edges;
    cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
    cv::Canny(gray, edges, 100, 200);
    FILE *out = std::fopen(argv[4], "wb");
    if (!out || std::fwrite(edges.data, 1, edges.total(), out) != edges.total()) return 1;
    return std::fclose(out) == 0 ? 0 : 1;
}
