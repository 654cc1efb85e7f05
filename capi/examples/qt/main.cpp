// shmframe-qt-example: Qt's "Shared Memory" example, ported to Qt 6 on shmframe.
// Start it twice: load an image in one, display it in the other.
//
//   --stream NAME       the stream (default QSharedMemoryExample, the original key)
//   --load FILE         load FILE as if chosen in the file dialog
//   --display           display the stream's latest frame at start
//   --live              start with "Live" on: every new frame, as it arrives
//   --screenshot FILE   save the image area to FILE, print the dialog's message
//                       and quit: at once, or after the first live frame with --live
#include <QApplication>
#include <QCommandLineParser>
#include <QLabel>
#include <QLayout>
#include <QSocketNotifier>
#include <QTimer>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <unistd.h>

#include "dialog.h"

namespace {

int signalPipe[2];

// Ctrl-C or SIGTERM quits through the event loop, so the writer closes its stream.
void quitOnSignals(QApplication &app) {
    if (pipe(signalPipe) != 0) return;
    auto *notifier = new QSocketNotifier(signalPipe[0], QSocketNotifier::Read, &app);
    QObject::connect(notifier, &QSocketNotifier::activated, &app, &QApplication::quit);
    struct sigaction action = {};
    action.sa_handler = [](int) { (void)!write(signalPipe[1], "q", 1); };
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

void saveScreenshot(Dialog &dialog, const QString &file) {
    dialog.layout()->activate();
    const bool saved = dialog.label()->grab().save(file);
    std::printf("message: %s\n", qPrintable(dialog.label()->text()));
    std::printf("screenshot %s: %s\n", saved ? "saved" : "FAILED", qPrintable(file));
    std::fflush(stdout);
    QApplication::exit(saved ? 0 : 1);
}

}  // namespace

int main(int argc, char **argv) {
    // Qt takes --display NAME as its X display: take ours out of its sight first.
    bool display = false;
    int kept = 1;
    for (int i = 1; i < argc; i++) {
        if (std::strcmp(argv[i], "--display") == 0 || std::strcmp(argv[i], "-display") == 0)
            display = true;
        else
            argv[kept++] = argv[i];
    }
    argc = kept;
    QApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription("Qt's Shared Memory example on shmframe");
    parser.addHelpOption();
    parser.addOption({"stream", "Stream name.", "NAME", "QSharedMemoryExample"});
    parser.addOption({"load", "Load FILE as if chosen in the file dialog.", "FILE"});
    parser.addOption({"display", "Display the latest frame at start."});
    parser.addOption({"live", "Start with Live on."});
    parser.addOption({"screenshot", "Save the image area to FILE and quit.", "FILE"});
    parser.process(app);
    quitOnSignals(app);

    Dialog dialog(parser.value("stream"));
    dialog.show();
    const QString screenshot = parser.value("screenshot");
    // Once the event loop runs, act as the flags say.
    QTimer::singleShot(0, &dialog, [&] {
        if (parser.isSet("load")) dialog.loadFromFile(parser.value("load"));
        if (display) dialog.loadFromMemory();
        if (parser.isSet("live")) {
            dialog.setLive(true);
            std::printf("live\n");
            std::fflush(stdout);
        }
        if (screenshot.isEmpty()) return;
        if (dialog.isLive())
            dialog.onLiveFrame = [&] { saveScreenshot(dialog, screenshot); };
        else
            saveScreenshot(dialog, screenshot);
    });
    return app.exec();
}
