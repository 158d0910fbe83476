/**
 * An item's guide (办事指南): materials, fee, time limit, 办理流程, where and when, with the
 * "在线申请" button. Query: `code`.
 */
const { client } = require('../../utils/api.js');
const { loadState } = require('../../utils/lifecycle.js');
const { applyDisplay } = require('../../utils/display.js');
const { yuan } = require('../../utils/format.js');

const REQUIREMENT = { required: '必交', conditional: '视情况提交' };
const FORM = { original: '原件', copy: '复印件', original_and_copy: '原件及复印件' };
const MODE = { fully_online: '全程网办', online_then_pickup: '网上申请、窗口领取', on_site: '需到现场办理' };
const LEVEL = ['无需实名', '需实名认证', '需刷脸认证（二级实名）'];

function shape(guide) {
  const fee = guide.fee || {};
  return {
    code: guide.code,
    name: guide.name,
    summary: guide.summary || '',
    modeText: MODE[guide.handling_mode] || '',
    feeText: fee.amount_fen > 0 ? `${yuan(fee.amount_fen)} 元${fee.unit ? `/${fee.unit}` : ''}` : '不收费',
    feeDescription: fee.description || '',
    feeBasis: fee.basis || '',
    promisedText: guide.promised_limit_days > 0 ? `${guide.promised_limit_days} 个工作日` : '即办',
    statutoryText: guide.statutory_limit_days > 0 ? `${guide.statutory_limit_days} 个工作日` : '',
    levelText: LEVEL[guide.min_realname_level] || '',
    materials: (guide.materials || []).map((m) => ({
      code: m.code,
      name: m.name,
      requirementText: REQUIREMENT[m.requirement] || '',
      required: m.requirement === 'required',
      condition: m.condition || '',
      formText: FORM[m.form] || '',
      maxFiles: m.max_files,
      notes: m.notes || '',
      elicence: Boolean(m.elicence_accepted),
    })),
    steps: (guide.process_steps || []).map((s, i) => ({ index: i + 1, name: s.name, description: s.description || '' })),
    resultName: (guide.result && guide.result.name) || '',
    place: guide.handling_place || '',
    hours: guide.handling_hours || '',
    phone: guide.enquiry_phone || '',
    complaintPhone: guide.complaint_phone || '',
    legalBasis: guide.legal_basis || [],
  };
}

Page({
  data: { displayClass: '', loading: true, error: '', guide: null },

  onLoad(query) {
    applyDisplay(this);
    this.code = (query && query.code) || '';
    return this.load();
  },

  onShow() {
    applyDisplay(this);
  },

  load() {
    return loadState(this, async () => {
      const guide = await client.get(`/api/v1/items/${encodeURIComponent(this.code)}`);
      this.setData({ loading: false, guide: shape(guide) });
    });
  },

  onApply() {
    // eslint-disable-next-line no-undef
    wx.navigateTo({ url: `/pages/apply/apply?code=${encodeURIComponent(this.code)}` });
  },
});
