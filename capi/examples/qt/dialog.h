// The dialog of Qt's "Shared Memory" example, on a shmframe stream: one
// instance loads an image and publishes it, another displays it.
#pragma once

#include <QDialog>
#include <QString>

#include <functional>
#include <optional>

#include <shmframe.hpp>

class QCheckBox;
class QLabel;
class QPushButton;
class QSocketNotifier;

class Dialog : public QDialog {
  public:
    explicit Dialog(const QString &stream, QWidget *parent = nullptr);

    // "Load Image From File...": `fileName`, or one chosen in a file dialog if empty.
    void loadFromFile(const QString &fileName = QString());
    // "Display Image From Shared Memory": the stream's latest frame.
    void loadFromMemory();
    // "Live": every new frame as it arrives, woken by the reader's fd.
    void setLive(bool live);

    QLabel *label() const { return label_; }
    bool isLive() const { return notifier_ != nullptr; }
    // Called after each frame shown in live mode.
    std::function<void()> onLiveFrame;

  private:
    void publish(const QImage &image);
    void showFrame(const shmframe::Frame &frame);
    void readLiveFrame();

    QString stream_;
    QLabel *label_;
    QPushButton *loadButton_;
    QPushButton *displayButton_;
    QCheckBox *liveBox_;
    std::optional<shmframe::Writer> writer_;
    std::size_t writerCapacity_ = 0;
    shmframe::Reader liveReader_;
    shmframe::Frame frame_;
    QSocketNotifier *notifier_ = nullptr;
};
