document.querySelector('#app')!.textContent = 'spikeloop';
