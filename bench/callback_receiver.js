// The benchmark's callback receiver: answers 200 to every POST and counts them. Node's
// HTTP server costs a fraction of Python's per request, so the receiver does not take the
// CPU the daemon is being measured with.   node bench/callback_receiver.js PORT
const http = require("http");
let received = 0;
http
  .createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.url === "/count") {
        res.end(String(received));
        return;
      }
      received++;
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": 2 });
      res.end("{}");
    });
  })
  .listen(Number(process.argv[2]), "127.0.0.1");
