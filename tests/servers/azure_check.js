// An independent Azure client for the storage tests: Microsoft's @azure/storage-blob,
// which shares no code with the azure-blob plugin.
//   node tests/servers/azure_check.js CONNECTION_STRING create-container NAME
//   node tests/servers/azure_check.js CONNECTION_STRING get CONTAINER BLOB   -> JSON {contentType, metadata, size, base64}
//   node tests/servers/azure_check.js CONNECTION_STRING put CONTAINER BLOB TEXT CONTENT_TYPE
//   node tests/servers/azure_check.js CONNECTION_STRING container-exists CONTAINER   -> true or false
"use strict";
const { BlobServiceClient } = require("@azure/storage-blob");

async function main() {
  const [conn, command, container, blob, text, contentType] = process.argv.slice(2);
  const service = BlobServiceClient.fromConnectionString(conn);
  const c = service.getContainerClient(container);
  if (command === "create-container") {
    await c.createIfNotExists();
  } else if (command === "get") {
    const b = c.getBlobClient(blob);
    const props = await b.getProperties();
    const body = await b.downloadToBuffer();
    console.log(JSON.stringify({
      contentType: props.contentType,
      metadata: props.metadata,
      size: props.contentLength,
      base64: body.toString("base64"),
    }));
  } else if (command === "container-exists") {
    console.log(JSON.stringify(await c.exists()));
  } else if (command === "put") {
    await c.getBlockBlobClient(blob).upload(text, Buffer.byteLength(text), {
      blobHTTPHeaders: { blobContentType: contentType },
    });
  } else {
    throw new Error("unknown command " + command);
  }
}

main().catch((e) => {
  console.error(e.code || "", e.message);
  process.exit(1);
});
