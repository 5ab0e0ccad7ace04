// Prints the Arn of sts:GetCallerIdentity with the JavaScript SDK v3's default credential
// chain (here: the container provider, given AWS_CONTAINER_CREDENTIALS_FULL_URI + token).
// The endpoint is AWS_ENDPOINT_URL (the sandbox); the region is AWS_REGION.
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";

const client = new STSClient({
  region: process.env.AWS_REGION,
  endpoint: process.env.AWS_ENDPOINT_URL,
});
try {
  const identity = await client.send(new GetCallerIdentityCommand({}));
  console.log(identity.Arn);
} catch (error) {
  console.error(`caller.mjs: ${error.name}: ${error.message}`);
  process.exit(1);
}
