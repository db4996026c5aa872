// berth test fixture: a tiny Express app answering on 0.0.0.0:$PORT.
const express = require("express");

const app = express();

app.get("/", (req, res) => res.type("text/plain").send("hello from node"));
app.get("/env/:key", (req, res) => res.type("text/plain").send(process.env[req.params.key] || ""));

const port = parseInt(process.env.PORT || "5000", 10);
const server = app.listen(port, "0.0.0.0", () => console.log(`listening on ${port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
