#include "dialog.h"

#include <algorithm>

#include <QCheckBox>
#include <QFileDialog>
#include <QImage>
#include <QLabel>
#include <QPixmap>
#include <QPushButton>
#include <QSocketNotifier>
#include <QVBoxLayout>

#include "frame_image.h"

Dialog::Dialog(const QString &stream, QWidget *parent)
    : QDialog(parent), stream_(stream),
      label_(new QLabel(tr("Launch two of these dialogs.  In the first, press the top button "
                           "and load an image from a file.  In the second, press the bottom "
                           "button and display the loaded image from shared memory."))),
      loadButton_(new QPushButton(tr("Load Image From File..."))),
      displayButton_(new QPushButton(tr("Display Image From Shared Memory"))),
      liveBox_(new QCheckBox(tr("Live"))) {
    label_->setAlignment(Qt::AlignCenter);
    label_->setWordWrap(true);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(loadButton_);
    layout->addWidget(label_, 1);
    layout->addWidget(displayButton_);
    layout->addWidget(liveBox_);
    connect(loadButton_, &QPushButton::clicked, this, [this] { loadFromFile(); });
    connect(displayButton_, &QPushButton::clicked, this, [this] { loadFromMemory(); });
    connect(liveBox_, &QCheckBox::toggled, this, [this](bool on) { setLive(on); });
    setWindowTitle(tr("SharedMemory Example"));
}

void Dialog::loadFromFile(const QString &fileName) {
    QString file = fileName;
    if (file.isEmpty()) {
        label_->setText(tr("Select an image file"));
        file = QFileDialog::getOpenFileName(this, QString(), QString(), tr("Images (*.png *.xpm *.jpg)"));
    }
    QImage image;
    if (!image.load(file)) {
        label_->setText(tr("Selected file is not an image, please select another."));
        return;
    }
    label_->setPixmap(QPixmap::fromImage(image));
    publish(image);
}

// Publishes `image` as rgba8 under the stream name, moving to a new stream
// with larger slots if it does not fit (readers follow).
void Dialog::publish(const QImage &image) {
    const QImage rgba = image.convertToFormat(QImage::Format_RGBA8888);
    const auto bytes = static_cast<std::size_t>(rgba.sizeInBytes());
    shmframe::Status status;
    if (!writer_ || bytes > writerCapacity_) {
        writer_.reset();
        shmframe_writer_options options = shmframe::default_writer_options();
        options.slot_capacity = std::max(options.slot_capacity, bytes);
        shmframe::Writer writer(stream_.toStdString(), options, &status);
        if (!writer) {
            label_->setText(tr("Unable to create shared memory segment.") + "\n" +
                            QString::fromStdString(status.message));
            return;
        }
        writer_ = std::move(writer);
        writerCapacity_ = options.slot_capacity;
    }
    shmframe::Meta meta = shmframe::packed(rgba.width(), rgba.height(), shmframe::PixelFormat::Rgba8);
    meta.stride = static_cast<std::uint32_t>(rgba.bytesPerLine());
    if (!writer_->publish(meta, rgba.constBits(), bytes, &status))
        label_->setText(tr("Unable to publish the image.") + "\n" + QString::fromStdString(status.message));
}

void Dialog::loadFromMemory() {
    // Like the original, which attaches, copies and detaches on each click.
    shmframe::Status status;
    shmframe::Reader reader(stream_.toStdString(), nullptr, &status);
    shmframe::Frame frame;
    if (!reader || reader.latest(frame, &status) != shmframe::Outcome::Ok) {
        label_->setText(tr("Unable to attach to shared memory segment.\nLoad an image first."));
        return;
    }
    showFrame(frame);
}

void Dialog::setLive(bool live) {
    if (liveBox_->isChecked() != live) {
        liveBox_->setChecked(live);  // toggled() calls back here
        return;
    }
    delete notifier_;
    notifier_ = nullptr;
    liveReader_ = shmframe::Reader();
    if (!live) return;
    shmframe::Status status;
    liveReader_ = shmframe::Reader(stream_.toStdString(), nullptr, &status);
    const int fd = liveReader_ ? liveReader_.fd(&status) : -1;
    if (fd < 0) {
        label_->setText(tr("Unable to attach to shared memory segment.\nLoad an image first."));
        liveBox_->setChecked(false);
        return;
    }
    // No timer and no thread here: Qt's event loop polls the fd with the rest.
    notifier_ = new QSocketNotifier(fd, QSocketNotifier::Read, this);
    connect(notifier_, &QSocketNotifier::activated, this, [this] { readLiveFrame(); });
}

void Dialog::readLiveFrame() {
    shmframe::Status status;
    switch (liveReader_.wait_latest(frame_, std::chrono::nanoseconds(0), &status)) {
    case shmframe::Outcome::Ok:
        showFrame(frame_);
        if (onLiveFrame) onLiveFrame();
        return;
    case shmframe::Outcome::Closed:
        label_->setText(tr("The writer closed the stream; waiting for a new one."));
        liveReader_.clear_readiness();
        return;
    case shmframe::Outcome::NoFrame:
    case shmframe::Outcome::NoHoldFree:  // only hold calls give it
        liveReader_.clear_readiness();
        return;
    case shmframe::Outcome::Failed:
        label_->setText(QString::fromStdString(status.message));
        setLive(false);
        return;
    }
}

void Dialog::showFrame(const shmframe::Frame &frame) {
    const QImage image = to_qimage(frame);
    if (image.isNull()) {
        label_->setText(tr("Unable to show a frame of format %1.").arg(shmframe::format_name(frame.format())));
        return;
    }
    label_->setPixmap(QPixmap::fromImage(image));
}
