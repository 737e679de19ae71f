-- The multipart upload id a staging key was first signed for: later requests for that key must name
-- the same one, so a reused "create" URL cannot start a second upload that gets parts signed.
alter table uploads add column upload_id text;
