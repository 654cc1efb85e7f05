// A shmframe frame as a QImage that Qt can show, in every pixel format.
#pragma once

#include <QImage>

#include <shmframe.hpp>

// A QImage of `frame` owning its pixels: formats Qt shows as they are are
// copied, YUV frames converted with their matrix and range, float frames
// clamped from 0..1 to gray. Null if the format is unknown.
QImage to_qimage(const shmframe::Frame &frame);
