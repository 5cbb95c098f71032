export async function sendEmail(campaignId) {
  return { campaignId, queued: true };
}
